-- Signed receipts of paid and session-debited answers (issue 19, docs/receipts.md), written in batches by the gate's
-- ReceiptStore after the answer: the JWS is the receipt, the other columns index it for GET /api/receipts.
CREATE TABLE receipts (
    id           text PRIMARY KEY,                 -- rcpt_ + the payment's or debit's random part
    payer        text NOT NULL,
    organization text NOT NULL,
    route        text NOT NULL,
    method       text NOT NULL,                    -- x402-v2, x402-v1, mpp, session
    amount       numeric(78, 0) NOT NULL,
    payment_id   text,
    debit_id     text,
    session_id   text,
    created_at   timestamptz NOT NULL,
    jws          text NOT NULL
);

CREATE INDEX receipts_payer_idx ON receipts (payer, created_at DESC, id DESC);
CREATE INDEX receipts_organization_idx ON receipts (organization, created_at DESC, id DESC);
