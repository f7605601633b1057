-- The merchant's hot row, removed: a settlement appends its credit to token_credits instead of updating the payee's
-- token_accounts row, and the journal is folded into the balance later (LedgerCreditFolder, and before any debit of that
-- account). Why: every settlement of an organisation credits one payTo row; updating it held that row's lock through the
-- function's work and the commit's WAL flush, so all settlements of the gate queued on it one after another
-- (docs/benchmarks.md, "Issue 16": lock waits were the largest share of a settlement). Now a settlement locks only the
-- payer's row. A balance is token_accounts.balance plus the account's unfolded credits; a credit is in exactly one of
-- the two (folding deletes it from the journal and adds it to the row in one transaction), so every sum stays exact.

CREATE TABLE token_credits (
    id       bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address  text           NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    asset    text           NOT NULL,
    network  text           NOT NULL,
    value    numeric(78, 0) NOT NULL CHECK (value >= 0),
    created_at timestamptz  NOT NULL DEFAULT now()
);

CREATE INDEX token_credits_account ON token_credits (address, asset, network);

-- Moves the account's journal credits into its row (created when missing) while the row is locked; returns the balance.
-- Concurrent folds of one account queue on the row lock, and each DELETE runs after the lock is taken (a fresh snapshot
-- under READ COMMITTED), so no credit is folded twice; a credit committed after the DELETE's snapshot stays for the next fold.
CREATE FUNCTION ledger_fold_credits(p_address text, p_asset text, p_network text)
RETURNS numeric
LANGUAGE plpgsql
AS $$
DECLARE
    folded numeric;
    moved bigint;
    result numeric;
BEGIN
    PERFORM 1 FROM token_accounts WHERE address = p_address AND asset = p_asset AND network = p_network FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO token_accounts (address, asset, network, balance) VALUES (p_address, p_asset, p_network, 0)
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM token_accounts WHERE address = p_address AND asset = p_asset AND network = p_network FOR UPDATE;
    END IF;
    WITH taken AS (
        DELETE FROM token_credits WHERE address = p_address AND asset = p_asset AND network = p_network RETURNING value)
    SELECT coalesce(sum(value), 0), count(*) INTO folded, moved FROM taken;
    IF moved > 0 THEN
        UPDATE token_accounts SET balance = balance + folded, updated_at = now()
         WHERE address = p_address AND asset = p_asset AND network = p_network
        RETURNING balance INTO result;
    ELSE
        SELECT balance INTO result FROM token_accounts WHERE address = p_address AND asset = p_asset AND network = p_network;
    END IF;
    RETURN result;
END;
$$;

-- transferWithAuthorization as in 0007, except: only the payer's row is locked, and the payee's credit is a journal row.
-- The payer's unfolded credits (a payee paying on) are folded first, under the payer's row lock, so its balance is whole.
CREATE OR REPLACE FUNCTION ledger_transfer_with_authorization(
    p_asset text, p_network text, p_from text, p_to text, p_value numeric, p_nonce text, p_transaction text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    from_balance numeric;
BEGIN
    IF EXISTS (SELECT 1 FROM token_credits WHERE address = p_from AND asset = p_asset AND network = p_network) THEN
        from_balance := ledger_fold_credits(p_from, p_asset, p_network);
    ELSE
        SELECT balance INTO from_balance FROM token_accounts
         WHERE asset = p_asset AND network = p_network AND address = p_from FOR UPDATE;
    END IF;

    IF EXISTS (SELECT 1 FROM token_authorizations
                WHERE asset = p_asset AND network = p_network AND from_address = p_from AND nonce = p_nonce) THEN
        RETURN 'nonce_already_used';
    END IF;
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
    INSERT INTO token_credits (address, asset, network, value) VALUES (p_to, p_asset, p_network, p_value);
    INSERT INTO token_transfers (kind, asset, network, from_address, to_address, value, nonce, transaction)
    VALUES ('transfer', p_asset, p_network, p_from, p_to, p_value, p_nonce, p_transaction);
    RETURN 'transferred';
END;
$$;
