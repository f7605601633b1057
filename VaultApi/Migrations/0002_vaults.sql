-- Vaults (issue 6): exactly one per payment session, documents that outlive the session, read-only sharing tokens.
-- The UNIQUE on session_id is what makes "one vault per session" true whatever the callers do (retries, duplicates,
-- concurrent provisioners): creation is INSERT ... ON CONFLICT (session_id) DO NOTHING.
CREATE TABLE vaults (
    id              text PRIMARY KEY CHECK (id ~ '^vlt_[0-9a-f]{32}$'),
    session_id      text NOT NULL UNIQUE,
    organization    text NOT NULL,
    payer           text NOT NULL CHECK (payer = lower(payer)),
    -- 'expired' is also derived on read (expires_at <= now); the sweeper makes the stored state catch up.
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'sealed', 'expired')),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,   -- the session's expiry: read-only afterwards
    sealed_at       timestamptz,
    retention_until timestamptz NOT NULL    -- deleted (with documents and tokens) after this
);

CREATE INDEX vaults_payer ON vaults (organization, payer);
CREATE INDEX vaults_retention ON vaults (retention_until);
CREATE INDEX vaults_active_expiry ON vaults (expires_at) WHERE state = 'active';

CREATE TABLE vault_documents (
    id           text PRIMARY KEY CHECK (id ~ '^doc_[0-9a-f]{32}$'),
    -- Insertion order: the stable key of newest-first pagination (many documents can share one created_at).
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    vault_id     text NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    content_type text NOT NULL,
    content      text NOT NULL,            -- UTF-8 text or JSON text (content_type says which)
    size         integer NOT NULL CHECK (size >= 0),   -- UTF-8 bytes of content
    created_at   timestamptz NOT NULL,
    added_by     text                      -- the gate's request id or the MCP tool that added it
);

CREATE INDEX vault_documents_newest ON vault_documents (vault_id, seq DESC);
CREATE INDEX vault_documents_name ON vault_documents (vault_id, name, seq);

CREATE TABLE vault_access_tokens (
    id          text PRIMARY KEY CHECK (id ~ '^vtk_[0-9a-f]{32}$'),
    vault_id    text NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,      -- hex SHA-256 of the token; the token itself is shown once
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE INDEX vault_access_tokens_vault ON vault_access_tokens (vault_id, created_at);
