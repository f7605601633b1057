-- Payments seen by the gate's paywall (x402). One row per (payer, nonce): the UNIQUE constraint is the durable
-- replay guard behind the Redis claim, whatever the facilitator does.
-- Status: verified (claimed, upstream being called) -> served (settled and answered)
--         verified -> released (upstream >= 400: not charged, the same payment may be presented again)
--         verified -> failed (facilitator refused the settlement)
--         verified -> pending (settle outcome unknown; the reconciler retries) -> settled | failed
--         settled (charged, answer not yet delivered) -> serving -> served, when the payer presents it again.
CREATE TABLE payments (
    id              text PRIMARY KEY CHECK (id ~ '^pay_[0-9a-f]{32}$'),
    payer           text NOT NULL CHECK (payer ~ '^0x[0-9a-f]{40}$'),
    nonce           text NOT NULL CHECK (nonce ~ '^0x[0-9a-f]{64}$'),
    organization    text NOT NULL,
    route           text NOT NULL,
    resource        text NOT NULL,
    amount          numeric(78,0) NOT NULL CHECK (amount >= 0),
    network         text NOT NULL,
    asset           text NOT NULL,
    pay_to          text NOT NULL,
    x402_version    smallint NOT NULL CHECK (x402_version IN (1, 2)),
    status          text NOT NULL CHECK (status IN ('verified', 'released', 'served', 'failed', 'pending', 'settled', 'serving')),
    -- SHA-256 of the payment header: a settled-but-unserved payment is delivered only to the identical header.
    payload_sha256  bytea NOT NULL,
    -- The facilitator request to retry while pending (same payload and requirements).
    settle_request  jsonb,
    transaction     text,
    error           text,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    valid_before    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz,
    CONSTRAINT payments_payer_nonce_key UNIQUE (payer, nonce)
);

CREATE INDEX payments_pending_idx ON payments (next_attempt_at) WHERE status = 'pending';
