-- What riders' and partners' event streams replay: appended in the same transaction as the
-- change they report; the id is the stream's Last-Event-ID.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id UUID,
    partner_id UUID,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_by_booking ON events (booking_id, id);
CREATE INDEX events_by_partner ON events (partner_id, id);

-- The last known position of each chauffeur (written in batches, about once a second).
CREATE TABLE chauffeur_positions (
    chauffeur_id UUID PRIMARY KEY REFERENCES users (id),
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    -- The H3 cell (resolution 6, ~3 km edges) the position falls in: the store narrows the
    -- nearest-chauffeur search to the cells around a pickup before the in-memory index ranks.
    cell BIGINT NOT NULL
);

CREATE INDEX chauffeur_positions_by_cell ON chauffeur_positions (cell, at);

-- On-demand offers go to one chauffeur (with the vehicle they would drive), not to a partner's
-- dispatcher.
ALTER TABLE offers ADD COLUMN chauffeur_id UUID REFERENCES users (id);
ALTER TABLE offers ADD COLUMN vehicle_id UUID REFERENCES vehicles (id);
CREATE INDEX offers_by_chauffeur ON offers (chauffeur_id, state);
