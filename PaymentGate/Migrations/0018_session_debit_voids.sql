-- Owed voids (docs/design/session-debits.md, "Redis killed"): a session request answered 503 because its confirm went
-- unanswered past its patience has its debit voided once Redis answers again (key "<session id>|<request id>").
ALTER TABLE compensations
    DROP CONSTRAINT compensations_kind_check,
    ADD CONSTRAINT compensations_kind_check CHECK (kind IN ('session-credit', 'mandate-release', 'session-debit-void'));
