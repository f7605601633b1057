-- Vaults of sessions paid on Solana (issue 21): an EVM payer is stored lowercase, a base58 Solana payer as written.
ALTER TABLE vaults DROP CONSTRAINT vaults_payer_check;
ALTER TABLE vaults ADD CONSTRAINT vaults_payer_check
    CHECK (payer = lower(payer) OR payer ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$');
