-- Agent mandates (SessionApi/README.md, "Agent mandates"): a user wallet authorises an agent (its payer address) to spend
-- within limits, proven by the user's and the agent's EIP-712 signatures over the terms. Amounts are atomic units,
-- numeric(78,0); a NULL limit is "no limit". `mandate_charges` is what the agent spent under its mandates: the rolling
-- windows are sums over it (per agent, so a month limit spans the weekly renewals of a mandate), computed under the active
-- mandate's row lock so concurrent charges can never overshoot a limit.

CREATE TABLE mandates (
    id                     text           PRIMARY KEY CHECK (id ~ '^man_[0-9a-f]{32}$'),
    user_address           text           NOT NULL CHECK (user_address ~ '^0x[0-9a-f]{40}$'),
    agent                  text           NOT NULL CHECK (agent ~ '^0x[0-9a-f]{40}$'),
    max_per_transaction    numeric(78, 0) CHECK (max_per_transaction > 0),
    max_per_day            numeric(78, 0) CHECK (max_per_day > 0),
    max_per_week           numeric(78, 0) CHECK (max_per_week > 0),
    max_per_month          numeric(78, 0) CHECK (max_per_month > 0),
    require_approval_above numeric(78, 0) CHECK (require_approval_above > 0),
    allowed_merchants      text[]         NOT NULL DEFAULT '{}',   -- organisation ids; empty = any
    metadata               jsonb,                                   -- informational, not part of the signed terms
    nonce                  text           NOT NULL UNIQUE CHECK (nonce ~ '^0x[0-9a-f]{64}$'),   -- one mandate per consent
    terms_digest           text           NOT NULL CHECK (terms_digest ~ '^0x[0-9a-f]{64}$'),   -- the EIP-712 digest signed
    user_signature         text           NOT NULL,
    agent_signature        text           NOT NULL,
    state                  text           NOT NULL CHECK (state IN ('active', 'revoked', 'expired')),
    created_at             timestamptz    NOT NULL,
    expires_at             timestamptz    NOT NULL CHECK (expires_at > created_at),
    revoked_at             timestamptz,
    updated_at             timestamptz    NOT NULL,
    CHECK ((state = 'revoked') = (revoked_at IS NOT NULL))
);

-- At most one active mandate per agent: the charge path must know which limits apply.
CREATE UNIQUE INDEX mandates_one_active_per_agent ON mandates (agent) WHERE state = 'active';
CREATE INDEX mandates_agent ON mandates (agent, created_at DESC);
CREATE INDEX mandates_user ON mandates (user_address, created_at DESC);

CREATE TABLE mandate_approvals (
    id           text           PRIMARY KEY CHECK (id ~ '^apr_[0-9a-f]{32}$'),
    mandate_id   text           NOT NULL REFERENCES mandates (id),
    organization text           NOT NULL,
    amount       numeric(78, 0) NOT NULL CHECK (amount > 0),
    request_key  text           NOT NULL,   -- the charge that asked: its retries find this approval again
    state        text           NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
    created_at   timestamptz    NOT NULL,
    decided_at   timestamptz,
    used_by      text,                      -- idempotency key of the charge that consumed it
    UNIQUE (mandate_id, request_key),
    CHECK ((state = 'pending') = (decided_at IS NULL)),
    CHECK ((state = 'used') = (used_by IS NOT NULL))
);

CREATE INDEX mandate_approvals_mandate ON mandate_approvals (mandate_id, created_at DESC);

CREATE TABLE mandate_charges (
    id              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mandate_id      text           NOT NULL REFERENCES mandates (id),
    agent           text           NOT NULL,   -- the windows count the agent's charges across its successive mandates
    -- Namespaced by source ("payment:<gate key>", "session-debit:<debit key>"): a retried charge is a replay, not a second charge.
    idempotency_key text           NOT NULL UNIQUE,
    organization    text           NOT NULL,
    amount          numeric(78, 0) NOT NULL CHECK (amount > 0),
    approval_id     text           REFERENCES mandate_approvals (id),
    session_id      text,
    created_at      timestamptz    NOT NULL,
    released_at     timestamptz    -- the payment or debit failed: no longer counted
);

-- The window sums: the agent's unreleased charges in the last 30 days.
CREATE INDEX mandate_charges_window ON mandate_charges (agent, created_at) WHERE released_at IS NULL;
