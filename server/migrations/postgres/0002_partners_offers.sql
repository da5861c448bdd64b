-- Partners (limousine companies), their members (dispatchers and chauffeurs), vehicles, and the
-- offers dispatch sends them. One accepted offer per booking is a constraint, not a hope.
CREATE TABLE partners (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE partner_cities (
    partner_id UUID NOT NULL REFERENCES partners (id),
    city_id TEXT NOT NULL,
    PRIMARY KEY (partner_id, city_id)
);

CREATE TABLE partner_classes (
    partner_id UUID NOT NULL REFERENCES partners (id),
    vehicle_class TEXT NOT NULL CHECK (vehicle_class IN ('business', 'first', 'van')),
    PRIMARY KEY (partner_id, vehicle_class)
);

-- A partner account (role partner) or chauffeur account (role chauffeur) belongs to one partner.
CREATE TABLE partner_members (
    user_id UUID PRIMARY KEY REFERENCES users (id),
    partner_id UUID NOT NULL REFERENCES partners (id)
);
CREATE INDEX partner_members_by_partner ON partner_members (partner_id);

CREATE TABLE vehicles (
    id UUID PRIMARY KEY,
    partner_id UUID NOT NULL REFERENCES partners (id),
    vehicle_class TEXT NOT NULL CHECK (vehicle_class IN ('business', 'first', 'van')),
    plate TEXT NOT NULL UNIQUE,
    seats BIGINT NOT NULL CHECK (seats > 0),
    bags BIGINT NOT NULL CHECK (bags >= 0),
    active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX vehicles_by_partner ON vehicles (partner_id);

CREATE TABLE offers (
    id UUID PRIMARY KEY,
    booking_id UUID NOT NULL REFERENCES bookings (id),
    partner_id UUID NOT NULL REFERENCES partners (id),
    batch BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    UNIQUE (booking_id, partner_id, batch)
);
CREATE UNIQUE INDEX offers_one_winner_per_booking ON offers (booking_id) WHERE state = 'accepted';
CREATE INDEX offers_by_partner ON offers (partner_id, state);
CREATE INDEX offers_by_booking ON offers (booking_id, state);

-- Rides a partner gave back (they count against it in the ranking, and it is asked last).
CREATE TABLE give_backs (
    booking_id UUID NOT NULL REFERENCES bookings (id),
    partner_id UUID NOT NULL REFERENCES partners (id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX give_backs_by_partner ON give_backs (partner_id, at);
CREATE INDEX give_backs_by_booking ON give_backs (booking_id);

-- Who drives a ride, with what, and when the chauffeur is busy with it.
CREATE TABLE assignments (
    booking_id UUID PRIMARY KEY REFERENCES bookings (id),
    partner_id UUID NOT NULL REFERENCES partners (id),
    chauffeur_id UUID NOT NULL REFERENCES users (id),
    vehicle_id UUID NOT NULL REFERENCES vehicles (id),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX assignments_by_chauffeur ON assignments (chauffeur_id, starts_at);

-- The receipt after the ride (the core's final fare: quote + declared extras).
ALTER TABLE bookings ADD COLUMN receipt JSONB;
ALTER TABLE bookings ADD COLUMN final_price_minor BIGINT;

-- A chauffeur cannot hold two rides whose times overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE assignments ADD CONSTRAINT assignments_no_overlap
    EXCLUDE USING gist (chauffeur_id WITH =, tstzrange(starts_at, ends_at) WITH &&);
