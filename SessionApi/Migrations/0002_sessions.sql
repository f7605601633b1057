-- Prepaid and pass sessions with their ledger (SessionApi/README.md). Amounts are atomic units of the asset
-- (USDC: 6 decimals); numeric(78,0) holds any uint256. The row in `sessions` is the balance; `session_ledger`
-- is the durable record of every movement, so that the row can be re-derived and checked (GET /admin/reconcile).
--
-- Invariant (checked by constraints where a single row can express it, by reconcile across tables):
--   deposit + topped_up = spent + balance + refunded
--   ledger: sum(deposit) = deposit, sum(topup) = topped_up, sum(debit) - sum(credit) = spent, sum(refund) = refunded

CREATE TABLE sessions (
    id                 text           PRIMARY KEY CHECK (id ~ '^ses_[0-9a-f]{32}$'),
    token_hash         text           NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),   -- hex SHA-256 of the token
    organization       text           NOT NULL CHECK (length(organization) BETWEEN 1 AND 100),
    payer              text           NOT NULL CHECK (payer ~ '^0x[0-9a-f]{40}$'),
    kind               text           NOT NULL CHECK (kind IN ('prepaid', 'pass')),
    opening_payment_id text           NOT NULL UNIQUE,   -- the payment that opened it: retries of the open find this row
    deposit            numeric(78, 0) NOT NULL CHECK (deposit > 0),
    topped_up          numeric(78, 0) NOT NULL DEFAULT 0 CHECK (topped_up >= 0),
    spent              numeric(78, 0) NOT NULL DEFAULT 0 CHECK (spent >= 0),
    balance            numeric(78, 0) NOT NULL CHECK (balance >= 0),
    refunded           numeric(78, 0) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    refund_method      text           CHECK (refund_method IN ('ledger', 'payout_owed')),
    state              text           NOT NULL CHECK (state IN ('PENDING', 'ACTIVE', 'DEPLETED', 'EXPIRED', 'REFUNDED')),
    request_count      bigint         NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    price_hint         numeric(78, 0) CHECK (price_hint > 0),
    created_at         timestamptz    NOT NULL,
    expires_at         timestamptz    NOT NULL CHECK (expires_at > created_at),
    updated_at         timestamptz    NOT NULL,
    version            bigint         NOT NULL DEFAULT 1,
    CHECK (deposit + topped_up = spent + balance + refunded),
    CHECK (state <> 'DEPLETED' OR balance = 0),
    CHECK (state <> 'REFUNDED' OR (balance = 0 AND refund_method IS NOT NULL)),
    CHECK (kind = 'prepaid' OR (balance = 0 AND topped_up = 0))   -- a pass is bought outright: nothing left to spend
);

CREATE INDEX sessions_payer ON sessions (organization, payer, created_at DESC);
-- The sweeper's scan: only sessions that can still expire.
CREATE INDEX sessions_expiring ON sessions (expires_at) WHERE state IN ('ACTIVE', 'DEPLETED');

CREATE TABLE session_ledger (
    id              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id      text           NOT NULL REFERENCES sessions (id),
    kind            text           NOT NULL CHECK (kind IN ('deposit', 'topup', 'debit', 'credit', 'refund')),
    amount          numeric(78, 0) NOT NULL CHECK (amount > 0),
    -- Namespaced per kind ("open:<paymentId>", "topup:<paymentId>", "debit:<gate request id>", "credit:<debit key>",
    -- "refund:<session id>"): the database, not the caller, guarantees each happens at most once.
    idempotency_key text           NOT NULL UNIQUE,
    payment_id      text,
    request_id      text,
    route           text,
    refund_method   text           CHECK (refund_method IN ('ledger', 'payout_owed')),
    balance_after   numeric(78, 0) NOT NULL CHECK (balance_after >= 0),   -- what a replay of this key answers
    request_count_after bigint     NOT NULL,
    created_at      timestamptz    NOT NULL,
    CHECK ((kind = 'refund') = (refund_method IS NOT NULL))
);

CREATE INDEX session_ledger_session ON session_ledger (session_id, id);
