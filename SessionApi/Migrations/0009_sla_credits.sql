-- Issue 20: a debit of a session on offer terms may be its price less an SLA credit (a request over the latency bound).
-- The row keeps what was taken off, so the ledger says which debits were credited and by how much.
ALTER TABLE session_ledger ADD COLUMN sla_credit numeric(78, 0) NOT NULL DEFAULT 0 CHECK (sla_credit >= 0);
