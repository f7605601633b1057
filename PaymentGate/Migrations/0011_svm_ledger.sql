-- The local facilitator's simulated Solana chain: SPL token accounts and the transactions that landed (issue 21).
-- Addresses, mints and signatures are base58; networks CAIP-2 ("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1").
-- Amounts are u64 atomic units. Kept apart from token_accounts (EVM, lowercase 0x hex) so each table checks its own form.

CREATE TABLE svm_token_accounts (
    network    text           NOT NULL,
    address    text           NOT NULL CHECK (address ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'),   -- the token account (an ATA)
    owner      text           NOT NULL CHECK (owner ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'),
    mint       text           NOT NULL CHECK (mint ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$'),
    balance    numeric(20, 0) NOT NULL DEFAULT 0 CHECK (balance >= 0 AND balance <= 18446744073709551615),
    updated_at timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (network, address)
);

CREATE INDEX svm_token_accounts_owner ON svm_token_accounts (owner, mint, network);

-- A transaction lands once: its id (the fee payer's signature) is the primary key. This is what makes concurrent
-- settlements of one payment end with exactly one transfer, and a replayed payment refused.
CREATE TABLE svm_transactions (
    signature   text           PRIMARY KEY,
    network     text           NOT NULL,
    kind        text           NOT NULL CHECK (kind IN ('transfer', 'faucet', 'refund')),
    mint        text           NOT NULL,
    source      text,                       -- null for faucet mints; a refund's is the merchant's token account
    authority   text,
    destination text           NOT NULL,
    owner       text           NOT NULL,    -- the destination's owner (payTo, or the faucet's recipient)
    amount      numeric(20, 0) NOT NULL CHECK (amount >= 0),
    fee_payer   text,
    created_at  timestamptz    NOT NULL DEFAULT now(),
    CHECK ((kind = 'faucet') = (source IS NULL))
);

CREATE INDEX svm_transactions_source ON svm_transactions (source, network, created_at);
CREATE INDEX svm_transactions_destination ON svm_transactions (destination, network, created_at);

-- TransferChecked as the token program runs it, plus the runtime's "already processed", in one autocommitted call.
-- Both accounts are locked in address order (as string.CompareOrdinal) first, so A->B and B->A cannot deadlock.
-- The destination (payTo's associated token account) is opened on its first credit: see PaymentGate/README.md.
-- Returns 'transferred', 'already_processed', 'source_missing', 'owner_mismatch', 'mint_mismatch' or 'insufficient_funds'.
CREATE FUNCTION svm_ledger_transfer(
    p_network text, p_signature text, p_mint text, p_source text, p_authority text, p_destination text, p_owner text,
    p_amount numeric, p_fee_payer text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    source_row svm_token_accounts%ROWTYPE;
BEGIN
    PERFORM 1 FROM svm_token_accounts
     WHERE network = p_network AND address IN (p_source, p_destination)
     ORDER BY address COLLATE "C"
       FOR UPDATE;
    IF EXISTS (SELECT 1 FROM svm_transactions WHERE signature = p_signature) THEN
        RETURN 'already_processed';
    END IF;
    SELECT * INTO source_row FROM svm_token_accounts WHERE network = p_network AND address = p_source;
    IF NOT FOUND THEN
        RETURN 'source_missing';
    END IF;
    IF source_row.owner <> p_authority THEN
        RETURN 'owner_mismatch';
    END IF;
    IF source_row.mint <> p_mint THEN
        RETURN 'mint_mismatch';
    END IF;
    IF source_row.balance < p_amount THEN
        RETURN 'insufficient_funds';
    END IF;
    INSERT INTO svm_transactions (signature, network, kind, mint, source, authority, destination, owner, amount, fee_payer)
    VALUES (p_signature, p_network, 'transfer', p_mint, p_source, p_authority, p_destination, p_owner, p_amount, p_fee_payer)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'already_processed';   -- landed meanwhile through a path that held no row lock we waited on
    END IF;
    UPDATE svm_token_accounts SET balance = balance - p_amount, updated_at = now()
     WHERE network = p_network AND address = p_source;
    INSERT INTO svm_token_accounts (network, address, owner, mint, balance) VALUES (p_network, p_destination, p_owner, p_mint, p_amount)
    ON CONFLICT (network, address) DO UPDATE SET balance = svm_token_accounts.balance + EXCLUDED.balance, updated_at = now();
    RETURN 'transferred';
END;
$$;

-- A refund the merchant sends back (a session closed with its balance left): from the payTo's token account to the
-- payer's, kind 'refund'. Idempotent on p_signature (derived from the session): the same refund asked twice moves money
-- once. Returns 'refunded', 'already_refunded' or 'insufficient_funds' (nothing moved).
CREATE FUNCTION svm_ledger_refund(
    p_network text, p_signature text, p_mint text, p_source text, p_source_owner text, p_destination text, p_owner text, p_amount numeric)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM 1 FROM svm_token_accounts
     WHERE network = p_network AND address IN (p_source, p_destination)
     ORDER BY address COLLATE "C"
       FOR UPDATE;
    IF EXISTS (SELECT 1 FROM svm_transactions WHERE signature = p_signature) THEN
        RETURN 'already_refunded';
    END IF;
    UPDATE svm_token_accounts SET balance = balance - p_amount, updated_at = now()
     WHERE network = p_network AND address = p_source AND owner = p_source_owner AND mint = p_mint AND balance >= p_amount;
    IF NOT FOUND AND p_amount > 0 THEN
        RETURN 'insufficient_funds';
    END IF;
    INSERT INTO svm_token_accounts (network, address, owner, mint, balance) VALUES (p_network, p_destination, p_owner, p_mint, p_amount)
    ON CONFLICT (network, address) DO UPDATE SET balance = svm_token_accounts.balance + EXCLUDED.balance, updated_at = now();
    INSERT INTO svm_transactions (signature, network, kind, mint, source, authority, destination, owner, amount)
    VALUES (p_signature, p_network, 'refund', p_mint, p_source, p_source_owner, p_destination, p_owner, p_amount);
    RETURN 'refunded';
END;
$$;
