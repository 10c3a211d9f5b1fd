-- +goose Up
-- Admin console sign-ins. The cookie holds a random secret; only its
-- SHA-256 is stored, so a copy of this table opens no session. A session
-- ends at expires_at (absolute lifetime) or after an idle gap longer than
-- the idle timeout since last_seen_at, whichever comes first.
CREATE TABLE console_sessions (
    secret_hash  TEXT     PRIMARY KEY,
    user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX console_sessions_user_id_idx ON console_sessions (user_id);
CREATE INDEX console_sessions_expires_at_idx ON console_sessions (expires_at);

-- Every change made through the console. actor_username is kept as it was,
-- so the entry still names who did it after that account is renamed or
-- deleted (actor_id is then left dangling on purpose: no foreign key).
CREATE TABLE audit_log (
    id             INTEGER  PRIMARY KEY AUTOINCREMENT,
    at             DATETIME NOT NULL,
    actor_id       INTEGER  NOT NULL,
    actor_username TEXT     NOT NULL,
    action         TEXT     NOT NULL,
    target_type    TEXT     NOT NULL,
    target_id      INTEGER  NOT NULL,
    detail         TEXT     NOT NULL DEFAULT '',
    request_id     TEXT     NOT NULL DEFAULT ''
);

-- The console's searches are prefix searches on the lower-cased keys: the
-- UNIQUE indexes of username_key and email_key (BINARY collation) answer
-- them as range scans, and this one those on titles. The index on
-- items (owner_id) already lists each owner's items by id (the rowid).
CREATE INDEX items_title_lower_idx ON items (lower(title));
-- Superusers are a handful among many users: the filter on them reads
-- this small index instead of every user.
CREATE INDEX users_superusers_idx ON users (id) WHERE is_superuser;

-- +goose Down
DROP INDEX users_superusers_idx;
DROP INDEX items_title_lower_idx;
DROP TABLE audit_log;
DROP TABLE console_sessions;
