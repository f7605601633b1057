-- transferWithAuthorization on the local ledger as one server-side function, called as one autocommitted statement.
-- Why: every settlement credits the same merchant row (the organisation's payTo), so its row lock serialises all
-- settlements. Run as five client round trips (authorization, credit, debit, transfer, COMMIT) the lock was held across
-- four of them; under load that capped the paid route at about 80 settlements/s (docs/benchmarks.md). Here the lock is
-- held for the function's own work and the commit only. Same rules and outcomes as before:
--  * the account rows are locked in address order (byte order, as string.CompareOrdinal) before anything moves, so that
--    A->B and B->A settling at once cannot deadlock;
--  * a used (asset, network, from, nonce) wins over an insufficient balance; the authorization's primary key stays the
--    guard that makes concurrent settlements of one authorization end with exactly one transfer;
--  * an insufficient balance moves nothing and leaves the nonce unused.
-- Returns 'transferred', 'nonce_already_used' or 'insufficient_balance'.
CREATE FUNCTION ledger_transfer_with_authorization(
    p_asset text, p_network text, p_from text, p_to text, p_value numeric, p_nonce text, p_transaction text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    from_balance numeric;
BEGIN
    PERFORM 1 FROM token_accounts
     WHERE asset = p_asset AND network = p_network AND address IN (p_from, p_to)
     ORDER BY address COLLATE "C"
       FOR UPDATE;

    IF EXISTS (SELECT 1 FROM token_authorizations
                WHERE asset = p_asset AND network = p_network AND from_address = p_from AND nonce = p_nonce) THEN
        RETURN 'nonce_already_used';
    END IF;
    -- Locked again here: a payer row created (faucet) after the PERFORM above was not locked by it.
    SELECT balance INTO from_balance FROM token_accounts WHERE asset = p_asset AND network = p_network AND address = p_from FOR UPDATE;
    IF coalesce(from_balance, 0) < p_value THEN
        RETURN 'insufficient_balance';
    END IF;
    INSERT INTO token_authorizations (asset, network, from_address, nonce, transaction)
    VALUES (p_asset, p_network, p_from, p_nonce, p_transaction)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'nonce_already_used';   -- taken meanwhile by a settlement that held no row lock we waited on
    END IF;

    UPDATE token_accounts SET balance = balance - p_value, updated_at = now()
     WHERE asset = p_asset AND network = p_network AND address = p_from;
    INSERT INTO token_accounts (address, asset, network, balance) VALUES (p_to, p_asset, p_network, p_value)
    ON CONFLICT (address, asset, network) DO UPDATE SET balance = token_accounts.balance + EXCLUDED.balance, updated_at = now();
    INSERT INTO token_transfers (kind, asset, network, from_address, to_address, value, nonce, transaction)
    VALUES ('transfer', p_asset, p_network, p_from, p_to, p_value, p_nonce, p_transaction);
    RETURN 'transferred';
END;
$$;
