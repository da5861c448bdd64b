-- The log-in and sign-up throttle: one counter row per scope ("pair:<e-mail>|<address>",
-- "address:<address>", "sign-up:<address>"), bumped by a single upsert so that concurrent
-- attempts — also on other replicas — each get their own number before any password is checked.
-- A row whose last attempt is older than the window starts again at 1.
CREATE TABLE login_attempts (
    scope TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    last_at TIMESTAMPTZ NOT NULL,
    previous_at TIMESTAMPTZ
);
CREATE INDEX login_attempts_by_last_at ON login_attempts (last_at);

-- Replaced by login_attempts (it was counted after the check, and never pruned).
DROP TABLE login_failures;
