-- The simulated Solana chain's landed transactions (transfer, faucet, refund) join the gate's hash chain as token_transfers
-- did (0010): the id of the transaction that wrote each row, for the chainer's "below the snapshot's xmin" rule.
ALTER TABLE svm_transactions ADD COLUMN chain_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX svm_transactions_chain ON svm_transactions (chain_xid, signature);
