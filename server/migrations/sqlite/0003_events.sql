-- What riders' and partners' event streams replay: appended in the same transaction as the
-- change they report; the id is the stream's Last-Event-ID.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id BLOB,
    partner_id BLOB,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX events_by_booking ON events (booking_id, id);
CREATE INDEX events_by_partner ON events (partner_id, id);

-- The last known position of each chauffeur (written in batches, about once a second).
CREATE TABLE chauffeur_positions (
    chauffeur_id BLOB PRIMARY KEY REFERENCES users (id),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    at TEXT NOT NULL,
    -- The H3 cell (resolution 6, ~3 km edges) the position falls in: the store narrows the
    -- nearest-chauffeur search to the cells around a pickup before the in-memory index ranks.
    cell INTEGER NOT NULL
);

CREATE INDEX chauffeur_positions_by_cell ON chauffeur_positions (cell, at);

-- On-demand offers go to one chauffeur (with the vehicle they would drive), not to a partner's
-- dispatcher.
ALTER TABLE offers ADD COLUMN chauffeur_id BLOB REFERENCES users (id);
ALTER TABLE offers ADD COLUMN vehicle_id BLOB REFERENCES vehicles (id);
CREATE INDEX offers_by_chauffeur ON offers (chauffeur_id, state);
