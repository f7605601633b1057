-- A void (docs/design/session-debits.md, "Redis killed"): the gate answered 503 to a request whose confirm Redis never
-- answered, so whether the debit was made is unknown. The void follows the debit on the gate's stream: a debit already in
-- the ledger is credited back (a 'credit' row, key "credit:<request id>"); otherwise this row alone is written, and a
-- debit of that key arriving later (another gate folding it late) is not applied.
CREATE TABLE debit_voids (
    key        text           PRIMARY KEY,                                  -- the gate's request id (the debit's key)
    session_id text           NOT NULL REFERENCES sessions (id),
    credited   numeric(78, 0) NOT NULL CHECK (credited >= 0),               -- 0: there was no debit to credit back
    created_at timestamptz    NOT NULL
);
