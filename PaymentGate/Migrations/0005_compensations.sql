-- What the gate owes back when its own undo could not be done at the time (SessionApi unreachable twice): the credit-back
-- of a session debit whose upstream failed, or the release of a mandate charge whose payment was not settled. The
-- CompensationRetrier repeats each until SessionApi answers; both calls are idempotent on their key, so one id per
-- (kind, key) and repeats are harmless.
-- Status: pending -> done (applied, or nothing was owed) | abandoned (SessionApi refused for good; an operator looks).
-- Owed again under the same key (a released payment presented again that fails again) reopens the row as pending with a
-- new version: an attempt leased under the old version cannot finish it.
CREATE TABLE compensations (
    id              text PRIMARY KEY,                  -- '<kind>:<key>'
    kind            text NOT NULL CHECK (kind IN ('session-credit', 'mandate-release')),
    organization    text NOT NULL,
    payer           text NOT NULL,
    session_id      text CHECK ((kind = 'session-credit') = (session_id IS NOT NULL)),
    key             text NOT NULL,                     -- the debit's request id, or the payment id of the charge
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'abandoned')),
    outcome         text,                              -- what the last attempt learnt
    attempts        integer NOT NULL DEFAULT 0,
    version         integer NOT NULL DEFAULT 1,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),   -- when it was (last) owed: the in-flight window counts from here
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX compensations_pending_idx ON compensations (next_attempt_at) WHERE status = 'pending';
