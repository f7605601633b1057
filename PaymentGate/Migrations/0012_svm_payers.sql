-- x402 exact on Solana (issue 21): a payment's payer may be a base58 Solana address (the transfer's authority), and its
-- nonce is then "0x" + the SHA-256 of the transaction message (which the existing nonce check already admits).
ALTER TABLE payments DROP CONSTRAINT payments_payer_check;
ALTER TABLE payments ADD CONSTRAINT payments_payer_check
    CHECK (payer ~ '^0x[0-9a-f]{40}$' OR payer ~ '^[1-9A-HJ-NP-Za-km-z]{32,44}$');
