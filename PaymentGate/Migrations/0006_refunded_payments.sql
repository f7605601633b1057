-- A settled top-up that SessionApi refused (its session expired or was closed between the gate's check and the top-up)
-- is paid back instead of kept: 'refunded' when the local ledger moved the tokens back (transaction id derived from the
-- payment id), 'refund_owed' when the facilitator cannot pay out and the merchant must (an operator lists these rows).
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('verified', 'released', 'served', 'failed', 'pending', 'settled', 'serving', 'refunded', 'refund_owed'));
