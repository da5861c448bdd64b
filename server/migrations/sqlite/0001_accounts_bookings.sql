-- Accounts, sessions, login throttling, bookings with append-only history, idempotency keys.
-- SQLite flavour; server/migrations/postgres/ holds the same schema for PostgreSQL.
CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('rider', 'partner', 'chauffeur', 'operator')),
    name TEXT,
    phone TEXT,
    created_at TEXT NOT NULL,
    erased_at TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_by_scope ON login_failures (scope, at);

CREATE TABLE bookings (
    id BLOB PRIMARY KEY,
    rider_id BLOB NOT NULL REFERENCES users (id),
    city_id TEXT NOT NULL,
    state TEXT NOT NULL,
    vehicle_class TEXT NOT NULL,
    product TEXT NOT NULL,
    pickup_at TEXT NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL,
    quote TEXT NOT NULL,
    child_seats INTEGER NOT NULL DEFAULT 0,
    cancellation_fee_minor INTEGER,
    partner_id BLOB,
    chauffeur_id BLOB,
    vehicle_id BLOB,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX bookings_by_rider ON bookings (rider_id, pickup_at);

-- Personal data of a booking lives apart, so erasure can clear it while the booking and its
-- history stay for accounting.
CREATE TABLE booking_personal (
    booking_id BLOB PRIMARY KEY REFERENCES bookings (id),
    passenger_name TEXT,
    passenger_phone TEXT,
    flight_number TEXT,
    notes TEXT
);

CREATE TABLE booking_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id BLOB NOT NULL REFERENCES bookings (id),
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id BLOB,
    from_state TEXT,
    to_state TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    UNIQUE (booking_id, version)
);
CREATE TRIGGER booking_history_is_append_only_update BEFORE UPDATE ON booking_history
BEGIN SELECT RAISE(ABORT, 'booking history is append-only'); END;
CREATE TRIGGER booking_history_is_append_only_delete BEFORE DELETE ON booking_history
BEGIN SELECT RAISE(ABORT, 'booking history is append-only'); END;

-- One row per (rider, key), written in the same transaction as the booking it created, with
-- the exact response to replay.
CREATE TABLE idempotency_keys (
    user_id BLOB NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    booking_id BLOB NOT NULL REFERENCES bookings (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
