-- +goose Up
-- email_key and username_key hold the lower-cased forms (users.Key): the
-- unique constraints on them make "Alice" and "alice" one account.
-- Timestamps are written by myapi in UTC.
-- AUTOINCREMENT: without it SQLite hands the id of the newest row to the
-- next insert once that row is deleted, and a deleted user's unexpired token
-- (sub = user id) would log in as the next account to register. Like
-- PostgreSQL's identity columns, ids are never reused.
CREATE TABLE users (
    id              INTEGER  PRIMARY KEY AUTOINCREMENT,
    email           TEXT     NOT NULL,
    email_key       TEXT     NOT NULL UNIQUE,
    username        TEXT     NOT NULL,
    username_key    TEXT     NOT NULL UNIQUE,
    hashed_password TEXT     NOT NULL,
    is_active       BOOLEAN  NOT NULL DEFAULT 1,
    is_superuser    BOOLEAN  NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE items (
    id          INTEGER  PRIMARY KEY AUTOINCREMENT,
    title       TEXT     NOT NULL,
    description TEXT,
    price       REAL     NOT NULL CHECK (price > 0),
    owner_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX items_owner_id_idx ON items (owner_id);

-- One row per login; token_hash is the SHA-256 of the only refresh token
-- of that session that still works.
CREATE TABLE refresh_sessions (
    id         TEXT     PRIMARY KEY,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT     NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX refresh_sessions_user_id_idx ON refresh_sessions (user_id);
CREATE INDEX refresh_sessions_expires_at_idx ON refresh_sessions (expires_at);

-- +goose Down
DROP TABLE refresh_sessions;
DROP TABLE items;
DROP TABLE users;
