-- Sessions paid on Solana (issue 21): the payer may be a base58 Solana address (case-sensitive, kept as written).
ALTER TABLE sessions DROP CONSTRAINT sessions_payer_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_payer_check
    CHECK (payer ~ '^0x[0-9a-f]{40}$' OR payer ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$');
