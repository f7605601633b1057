-- The listing indexes in ascending order: receipts arrive in time order, so each new entry goes to the end of its payer's
-- (or organisation's) range, where Postgres splits a full page just after it and pages stay full. In descending order every
-- new entry went to the start of the range: half-empty pages split twice as often. Listings read newest first with a
-- backward scan of the same index.
DROP INDEX receipts_payer_idx;
DROP INDEX receipts_organization_idx;
CREATE INDEX receipts_payer_idx ON receipts (payer, created_at, id);
CREATE INDEX receipts_organization_idx ON receipts (organization, created_at, id);
