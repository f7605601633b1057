-- Signed webhooks through a transactional outbox (SessionApi/README.md, "Webhooks"). A change and its event commit
-- together: OutboxWriter inserts the event into `outbox` and one `outbox_deliveries` row per matching endpoint in the
-- caller's transaction. The dispatcher then works on `outbox_deliveries` (FOR UPDATE SKIP LOCKED), logs every attempt in
-- `webhook_deliveries` and keeps the summary columns of `outbox` up to date. All state is here: a restart loses nothing.

CREATE TABLE webhook_endpoints (
    id           text        PRIMARY KEY CHECK (id ~ '^whe_[0-9a-f]{32}$'),
    url          text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    -- The HMAC key (UTF-8 bytes of the whole string). Kept in clear because signing needs it; shown once at registration.
    secret       text        NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9_-]{43}$'),
    events       text[]      NOT NULL DEFAULT '{}',   -- empty = every event
    organization text        CHECK (length(organization) BETWEEN 1 AND 100),   -- null = every organisation
    active       boolean     NOT NULL DEFAULT true,   -- false once deleted: its delivery log stays readable
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz,
    CHECK (active = (deleted_at IS NULL))
);

CREATE TABLE outbox (
    id              text        PRIMARY KEY CHECK (id ~ '^evt_[0-9a-f]{32}$'),   -- the Webhook-Id receivers de-duplicate on
    event           text        NOT NULL,
    api_version     text        NOT NULL,
    payload         jsonb       NOT NULL,   -- the envelope's `data`
    organization    text,
    created_at      timestamptz NOT NULL,   -- the envelope's `timestamp`
    -- Summary over the event's deliveries (the dispatcher maintains it; the truth is in outbox_deliveries):
    next_attempt_at timestamptz,            -- earliest pending delivery, null when none is pending
    attempts        integer     NOT NULL DEFAULT 0,   -- attempts over all endpoints
    delivered_at    timestamptz,            -- every endpoint has it (set at once when no endpoint matched)
    dead            boolean     NOT NULL DEFAULT false   -- at least one endpoint never got it (attempts exhausted, endpoint deleted)
);

CREATE INDEX outbox_created ON outbox (created_at DESC);

-- The delivery state of one event to one endpoint: each endpoint gets each event at least once.
CREATE TABLE outbox_deliveries (
    outbox_id       text        NOT NULL REFERENCES outbox (id),
    endpoint_id     text        NOT NULL REFERENCES webhook_endpoints (id),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    dead            boolean     NOT NULL DEFAULT false,
    last_error      text,
    PRIMARY KEY (outbox_id, endpoint_id),
    CHECK (NOT (dead AND delivered_at IS NOT NULL))
);

-- The dispatcher's scan: only deliveries still to be made.
CREATE INDEX outbox_deliveries_due ON outbox_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND NOT dead;

-- Every attempt, successful or not.
CREATE TABLE webhook_deliveries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id   text        NOT NULL REFERENCES outbox (id),
    endpoint_id text        NOT NULL REFERENCES webhook_endpoints (id),
    attempt     integer     NOT NULL CHECK (attempt >= 1),
    status_code integer,    -- null when no answer came (connection refused, timeout)
    succeeded   boolean     NOT NULL,
    error       text,
    duration_ms integer     NOT NULL CHECK (duration_ms >= 0),
    at          timestamptz NOT NULL
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);
