-- vault.expiring / vault.expired webhooks (VaultApi/README.md, "Retention and webhooks"). expiring_notified_at records that
-- SessionApi's outbox accepted vault.expiring; vault.expired is reported before the row is deleted, so a vault is never
-- gone without its event (the event id is derived from the vault id: a repeated report enqueues nothing new).
ALTER TABLE vaults ADD COLUMN expiring_notified_at timestamptz;
