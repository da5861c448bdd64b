-- Partners (limousine companies), their members (dispatchers and chauffeurs), vehicles, and the
-- offers dispatch sends them. One accepted offer per booking is a constraint, not a hope.
CREATE TABLE partners (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE partner_cities (
    partner_id BLOB NOT NULL REFERENCES partners (id),
    city_id TEXT NOT NULL,
    PRIMARY KEY (partner_id, city_id)
);

CREATE TABLE partner_classes (
    partner_id BLOB NOT NULL REFERENCES partners (id),
    vehicle_class TEXT NOT NULL CHECK (vehicle_class IN ('business', 'first', 'van')),
    PRIMARY KEY (partner_id, vehicle_class)
);

-- A partner account (role partner) or chauffeur account (role chauffeur) belongs to one partner.
CREATE TABLE partner_members (
    user_id BLOB PRIMARY KEY REFERENCES users (id),
    partner_id BLOB NOT NULL REFERENCES partners (id)
);
CREATE INDEX partner_members_by_partner ON partner_members (partner_id);

CREATE TABLE vehicles (
    id BLOB PRIMARY KEY,
    partner_id BLOB NOT NULL REFERENCES partners (id),
    vehicle_class TEXT NOT NULL CHECK (vehicle_class IN ('business', 'first', 'van')),
    plate TEXT NOT NULL UNIQUE,
    seats INTEGER NOT NULL CHECK (seats > 0),
    bags INTEGER NOT NULL CHECK (bags >= 0),
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX vehicles_by_partner ON vehicles (partner_id);

CREATE TABLE offers (
    id BLOB PRIMARY KEY,
    booking_id BLOB NOT NULL REFERENCES bookings (id),
    partner_id BLOB NOT NULL REFERENCES partners (id),
    batch INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    answered_at TEXT,
    UNIQUE (booking_id, partner_id, batch)
);
CREATE UNIQUE INDEX offers_one_winner_per_booking ON offers (booking_id) WHERE state = 'accepted';
CREATE INDEX offers_by_partner ON offers (partner_id, state);
CREATE INDEX offers_by_booking ON offers (booking_id, state);

-- Rides a partner gave back (they count against it in the ranking, and it is asked last).
CREATE TABLE give_backs (
    booking_id BLOB NOT NULL REFERENCES bookings (id),
    partner_id BLOB NOT NULL REFERENCES partners (id),
    at TEXT NOT NULL
);
CREATE INDEX give_backs_by_partner ON give_backs (partner_id, at);
CREATE INDEX give_backs_by_booking ON give_backs (booking_id);

-- Who drives a ride, with what, and when the chauffeur is busy with it.
CREATE TABLE assignments (
    booking_id BLOB PRIMARY KEY REFERENCES bookings (id),
    partner_id BLOB NOT NULL REFERENCES partners (id),
    chauffeur_id BLOB NOT NULL REFERENCES users (id),
    vehicle_id BLOB NOT NULL REFERENCES vehicles (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX assignments_by_chauffeur ON assignments (chauffeur_id, starts_at);

-- The receipt after the ride (the core's final fare: quote + declared extras).
ALTER TABLE bookings ADD COLUMN receipt TEXT;
ALTER TABLE bookings ADD COLUMN final_price_minor INTEGER;

-- A chauffeur cannot hold two rides whose times overlap.
CREATE TRIGGER assignments_no_overlap_insert BEFORE INSERT ON assignments
WHEN EXISTS (SELECT 1 FROM assignments a WHERE a.chauffeur_id = NEW.chauffeur_id
             AND a.booking_id != NEW.booking_id
             AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN SELECT RAISE(ABORT, 'chauffeur_busy: overlapping ride'); END;
CREATE TRIGGER assignments_no_overlap_update BEFORE UPDATE ON assignments
WHEN EXISTS (SELECT 1 FROM assignments a WHERE a.chauffeur_id = NEW.chauffeur_id
             AND a.booking_id != NEW.booking_id
             AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN SELECT RAISE(ABORT, 'chauffeur_busy: overlapping ride'); END;
