-- Receipts stored a batch per row (issue 19's cost rule, docs/benchmarks.md "eleventh look"): the writer already gathers
-- the receipts of 100 ms; a row per payer and organisation of each batch, holding their ids and JWS as arrays, costs
-- Postgres one tuple and three index entries per batch instead of per receipt, and lz4 compresses the JWS, which share
-- most of their bytes within a batch. Receipt ids sort by time (version 7 UUIDs), so a batch's first and last id bound
-- where it can appear in a listing.
CREATE TABLE receipt_batches (
    id           uuid PRIMARY KEY,              -- the writer's key: a batch retried after an unacknowledged commit is stored once
    payer        text NOT NULL,
    organization text NOT NULL,
    first_id     text NOT NULL,
    last_id      text NOT NULL,
    created_at   timestamptz NOT NULL,          -- when the batch was written
    ids          text[] NOT NULL,               -- ascending
    jws          text[] COMPRESSION lz4 NOT NULL -- jws[i] is the receipt ids[i]
);

-- Listings read newest first: a backward scan by last_id, of a payer, of an organisation, or of all.
CREATE INDEX receipt_batches_payer_idx ON receipt_batches (payer, last_id);
CREATE INDEX receipt_batches_organization_idx ON receipt_batches (organization, last_id);
CREATE INDEX receipt_batches_last_id_idx ON receipt_batches (last_id);

INSERT INTO receipt_batches (id, payer, organization, first_id, last_id, created_at, ids, jws)
SELECT gen_random_uuid(), payer, organization, min(id), max(id), max(created_at), array_agg(id ORDER BY id), array_agg(jws ORDER BY id)
FROM receipts
GROUP BY payer, organization, date_trunc('second', created_at);

DROP TABLE receipts;
