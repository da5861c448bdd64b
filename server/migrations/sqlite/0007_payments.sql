-- Card payments. A booking's payment (the core's CardPayment: intent, status, amounts, refunds)
-- lives in the booking as JSON, so every change to it is a version in the booking's history;
-- payment_status and payment_intent_id repeat its status and intent so the payments still to
-- settle, and the booking of a provider's webhook, are found by an index.
ALTER TABLE bookings ADD COLUMN payment TEXT;
ALTER TABLE bookings ADD COLUMN payment_status TEXT;
CREATE INDEX bookings_open_payments ON bookings (payment_status)
    WHERE payment_status IN ('authorized', 'requires_action');
-- The provider's intent id, for its webhooks.
ALTER TABLE bookings ADD COLUMN payment_intent_id TEXT;
CREATE UNIQUE INDEX bookings_payment_intent ON bookings (payment_intent_id);

-- An authorisation asked of the provider whose booking is not written yet. Written before the
-- provider is called and deleted with the booking's creation (or the decline), so one left
-- behind by a crash is found and its hold released by the reconciliation.
CREATE TABLE payment_attempts (
    provider_key TEXT PRIMARY KEY,
    user_id BLOB NOT NULL,
    payment_method TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    booking_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    -- Set when the reconciliation released it: a later retry of the same request is refused.
    abandoned_at TEXT
);
