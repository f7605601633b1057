-- Tamper-evident ledger (issue 19, docs/ledger-chain.md). Every money movement of this database is appended to
-- `ledger_chain` by the background chainer (ServiceDefaults/Ledger/LedgerChainer.cs), never by the money path: each entry
-- keeps the canonical content of the row it covers and commits to it and to the entry before it, so an UPDATE, DELETE or
-- reordering done directly in Postgres shows up in GET /admin/ledger/verify.
--
-- Which rows and in what order: each movement is stamped with the transaction that wrote it (an xid8 column, set by a
-- column default on INSERT, or by a trigger on the transition of a mutable row). The chainer takes rows in (xid, id) order,
-- only below pg_snapshot_xmin of its snapshot, i.e. once no transaction that could still add a row below that point is
-- running: a debit batch that took its ids early but commits late is chained at its xid, never skipped.

CREATE TABLE ledger_chain (
    position   bigint      PRIMARY KEY CHECK (position >= 0),
    source     text        NOT NULL,   -- session_ledger | mandate_charge | mandate_release
    kind       text        NOT NULL,
    row_id     text        NOT NULL,
    row_xid    xid8        NOT NULL,   -- the transaction of the movement: the chain's order, with row_id
    content    text        NOT NULL,   -- the row's canonical content when chained (its hash is row_hash)
    row_hash   text        NOT NULL CHECK (row_hash ~ '^[0-9a-f]{64}$'),
    prev_hash  text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    entry_hash text        NOT NULL CHECK (entry_hash ~ '^[0-9a-f]{64}$'),
    chained_at timestamptz NOT NULL,
    UNIQUE (source, row_id, row_xid)
);

-- Where each source's chaining stands: the last (xid, id) chained.
CREATE TABLE ledger_chain_cursors (
    source text PRIMARY KEY,
    xid    xid8 NOT NULL,
    row_id text NOT NULL
);

-- Times in canonical content: UTC, microseconds, whatever the session's TimeZone.
CREATE FUNCTION ledger_chain_time(t timestamptz) RETURNS text LANGUAGE sql STABLE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Ledger rows are written once: the inserting transaction is the movement's.
ALTER TABLE session_ledger ADD COLUMN chain_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX session_ledger_chain ON session_ledger (chain_xid, id);

-- A mandate charge is inserted (charged), may be released (released_at set), and a released key may be charged again
-- (ON CONFLICT ... released_at = NULL). Each of these is a movement of its own, stamped by this trigger.
ALTER TABLE mandate_charges ADD COLUMN charged_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE mandate_charges ADD COLUMN released_xid xid8;
UPDATE mandate_charges SET released_xid = charged_xid WHERE released_at IS NOT NULL;
CREATE INDEX mandate_charges_chain_charged ON mandate_charges (charged_xid, id);
CREATE INDEX mandate_charges_chain_released ON mandate_charges (released_xid, id) WHERE released_xid IS NOT NULL;

CREATE FUNCTION mandate_charges_chain_xids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.released_at IS NOT NULL THEN
        NEW.released_xid := pg_current_xact_id();
    ELSE
        NEW.charged_xid := pg_current_xact_id();
        NEW.released_xid := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER mandate_charges_chain_xids BEFORE UPDATE OF released_at ON mandate_charges
    FOR EACH ROW WHEN ((OLD.released_at IS NULL) <> (NEW.released_at IS NULL))
    EXECUTE FUNCTION mandate_charges_chain_xids();
