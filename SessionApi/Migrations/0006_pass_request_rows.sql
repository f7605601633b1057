-- Session debits decided at the gate (docs/design/session-debits.md) reach the ledger in batches that may be sent again:
-- every one needs its row, so that its idempotency key makes a repeat a no-op. A pass's requests cost nothing, so their
-- debit rows carry 0 (they are counted, not charged); every other movement still moves a positive amount.
ALTER TABLE session_ledger DROP CONSTRAINT session_ledger_amount_check;
ALTER TABLE session_ledger ADD CONSTRAINT session_ledger_amount_check CHECK (amount > 0 OR (kind = 'debit' AND amount = 0));
