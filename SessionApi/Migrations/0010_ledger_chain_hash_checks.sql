-- Issue 19's cost rule (docs/benchmarks.md, "Receipts and the chain made cheaper"): the three regular-expression CHECKs
-- on the chain's hex hashes cost Postgres about 17 µs per chained movement (more than the insert and both indexes
-- together: 20,000 entries in 445 ms with them, 102 ms without). The chainer writes only SHA-256 hex it computed, and
-- verification recomputes every hash anyway, so a length check is all the table needs to keep.
ALTER TABLE ledger_chain
    DROP CONSTRAINT ledger_chain_row_hash_check,
    DROP CONSTRAINT ledger_chain_prev_hash_check,
    DROP CONSTRAINT ledger_chain_entry_hash_check,
    ADD CONSTRAINT ledger_chain_hash_lengths CHECK (octet_length(row_hash) = 64 AND octet_length(prev_hash) = 64 AND octet_length(entry_hash) = 64);
