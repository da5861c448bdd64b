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
