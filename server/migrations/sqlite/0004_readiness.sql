-- One row that /readyz rewrites: a real, durable write, so "ready" means the database can take
-- one now (not merely answer a SELECT while its disk is full or its file read-only).
CREATE TABLE readiness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);
