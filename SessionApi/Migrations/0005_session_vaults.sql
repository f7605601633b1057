-- Issue 6: every session has exactly one vault in VaultApi's database (VaultApi/README.md, "One vault per session").
-- vault_id records VaultApi's confirmation. VaultProvisioner ensures the vault of every session that has none yet
-- (idempotent PUT; VaultApi's UNIQUE(session_id) makes duplicates impossible), so a crash between the session's commit
-- and its vault, or VaultApi being down at the time, only delays the vault until VaultApi answers again.
ALTER TABLE sessions ADD COLUMN vault_id text CHECK (vault_id ~ '^vlt_[0-9a-f]{32}$');

CREATE INDEX sessions_without_vault ON sessions (created_at) WHERE vault_id IS NULL;
