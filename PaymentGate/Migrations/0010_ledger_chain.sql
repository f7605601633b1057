-- Tamper-evident ledger (issue 19, docs/ledger-chain.md): the gate's money movements chained in the background, and the
-- signed checkpoints of both chains (this one, "gate", and SessionApi's, "sessions"). The chain tables are the same as in
-- SessionApi's 0007_ledger_chain.sql; see there for how rows are ordered (xid8 stamps, chained below the snapshot xmin).

CREATE TABLE ledger_chain (
    position   bigint      PRIMARY KEY CHECK (position >= 0),
    source     text        NOT NULL,   -- token_transfers | payment_settlement | payment_refund
    kind       text        NOT NULL,
    row_id     text        NOT NULL,
    row_xid    xid8        NOT NULL,
    content    text        NOT NULL,
    row_hash   text        NOT NULL CHECK (row_hash ~ '^[0-9a-f]{64}$'),
    prev_hash  text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    entry_hash text        NOT NULL CHECK (entry_hash ~ '^[0-9a-f]{64}$'),
    chained_at timestamptz NOT NULL,
    UNIQUE (source, row_id, row_xid)
);

CREATE TABLE ledger_chain_cursors (
    source text PRIMARY KEY,
    xid    xid8 NOT NULL,
    row_id text NOT NULL
);

CREATE FUNCTION ledger_chain_time(t timestamptz) RETURNS text LANGUAGE sql STABLE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- The local facilitator's token ledger is append-only (transfer = a settlement, faucet, refund).
ALTER TABLE token_transfers ADD COLUMN chain_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX token_transfers_chain ON token_transfers (chain_xid, id);

-- A payment row changes state many times; two transitions move money and are stamped: its settlement (settled_at set)
-- and its refund (status refunded or refund_owed).
ALTER TABLE payments ADD COLUMN settled_xid xid8;
ALTER TABLE payments ADD COLUMN refunded_xid xid8;
UPDATE payments SET settled_xid = pg_current_xact_id() WHERE settled_at IS NOT NULL;
UPDATE payments SET refunded_xid = pg_current_xact_id() WHERE status IN ('refunded', 'refund_owed');
CREATE INDEX payments_chain_settled ON payments (settled_xid, id) WHERE settled_xid IS NOT NULL;
CREATE INDEX payments_chain_refunded ON payments (refunded_xid, id) WHERE refunded_xid IS NOT NULL;

CREATE FUNCTION payments_chain_xids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL THEN
        NEW.settled_xid := pg_current_xact_id();
    END IF;
    IF NEW.status IN ('refunded', 'refund_owed') AND OLD.status NOT IN ('refunded', 'refund_owed') THEN
        NEW.refunded_xid := pg_current_xact_id();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER payments_chain_xids BEFORE UPDATE OF settled_at, status ON payments
    FOR EACH ROW WHEN ((OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL)
                       OR (NEW.status IN ('refunded', 'refund_owed') AND OLD.status NOT IN ('refunded', 'refund_owed')))
    EXECUTE FUNCTION payments_chain_xids();

-- Checkpoints the gate signed (GET /.well-known/ledger-checkpoints): the JWS is the statement, the columns index it.
CREATE TABLE ledger_checkpoints (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger    text        NOT NULL CHECK (ledger IN ('sessions', 'gate')),
    position  bigint      NOT NULL CHECK (position >= 0),
    head      text        NOT NULL CHECK (head ~ '^[0-9a-f]{64}$'),
    at        timestamptz NOT NULL,
    jws       text        NOT NULL,
    UNIQUE (ledger, position)
);
