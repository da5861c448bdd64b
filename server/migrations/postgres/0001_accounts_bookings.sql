-- Accounts, sessions, login throttling, bookings with append-only history, idempotency keys.
-- PostgreSQL flavour of server/migrations/sqlite/0001_accounts_bookings.sql.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('rider', 'partner', 'chauffeur', 'operator')),
    name TEXT,
    phone TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    erased_at TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_by_scope ON login_failures (scope, at);

CREATE TABLE bookings (
    id UUID PRIMARY KEY,
    rider_id UUID NOT NULL REFERENCES users (id),
    city_id TEXT NOT NULL,
    state TEXT NOT NULL,
    vehicle_class TEXT NOT NULL,
    product TEXT NOT NULL,
    pickup_at TIMESTAMPTZ NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL,
    quote JSONB NOT NULL,
    child_seats BIGINT NOT NULL DEFAULT 0,
    cancellation_fee_minor BIGINT,
    partner_id UUID,
    chauffeur_id UUID,
    vehicle_id UUID,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX bookings_by_rider ON bookings (rider_id, pickup_at);

CREATE TABLE booking_personal (
    booking_id UUID PRIMARY KEY REFERENCES bookings (id),
    passenger_name TEXT,
    passenger_phone TEXT,
    flight_number TEXT,
    notes TEXT
);

CREATE TABLE booking_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id UUID NOT NULL REFERENCES bookings (id),
    version BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    actor_id UUID,
    from_state TEXT,
    to_state TEXT NOT NULL,
    snapshot JSONB NOT NULL,
    UNIQUE (booking_id, version)
);
CREATE FUNCTION booking_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'booking history is append-only';
END;
$$;
CREATE TRIGGER booking_history_is_append_only BEFORE UPDATE OR DELETE ON booking_history
FOR EACH ROW EXECUTE FUNCTION booking_history_is_append_only();

-- One row per (rider, key), written in the same transaction as the booking it created, with
-- the exact response to replay.
CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    booking_id UUID NOT NULL REFERENCES bookings (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
