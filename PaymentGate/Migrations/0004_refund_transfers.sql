-- Refunds on the local token ledger: a closed session's remaining balance goes back from the organisation's payTo to the
-- payer (kind 'refund', no EIP-3009 nonce; its transaction id is derived from the session id, which makes it idempotent).
ALTER TABLE token_transfers DROP CONSTRAINT token_transfers_kind_check;
ALTER TABLE token_transfers ADD CONSTRAINT token_transfers_kind_check CHECK (kind IN ('transfer', 'faucet', 'refund'));
ALTER TABLE token_transfers DROP CONSTRAINT token_transfers_check;
ALTER TABLE token_transfers ADD CONSTRAINT token_transfers_nonce_check CHECK ((kind = 'transfer') = (nonce IS NOT NULL));
