-- +goose NO TRANSACTION
-- Without AUTOINCREMENT, SQLite gives the id of the newest row to the next
-- insert once that row is deleted. A deleted user's id would then go to the
-- next account to register, and the deleted user's unexpired access token
-- (sub = user id) would log in as the newcomer. AUTOINCREMENT never reuses
-- an id, like PostgreSQL's identity columns.
--
-- SQLite cannot change a column's definition in place, so the tables are
-- rebuilt the documented way (https://www.sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"): foreign keys off, so dropping the
-- old users table cascades nothing, then one transaction, then back on.
-- PRAGMA foreign_keys is a no-op inside a transaction, hence NO TRANSACTION.

-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_new (
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
INSERT INTO users_new (id, email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
    SELECT id, email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE items_new (
    id          INTEGER  PRIMARY KEY AUTOINCREMENT,
    title       TEXT     NOT NULL,
    description TEXT,
    price       REAL     NOT NULL CHECK (price > 0),
    owner_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
INSERT INTO items_new (id, title, description, price, owner_id, created_at, updated_at)
    SELECT id, title, description, price, owner_id, created_at, updated_at FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX items_owner_id_idx ON items (owner_id);

COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_old (
    id              INTEGER  PRIMARY KEY,
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
INSERT INTO users_old (id, email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
    SELECT id, email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;

CREATE TABLE items_old (
    id          INTEGER  PRIMARY KEY,
    title       TEXT     NOT NULL,
    description TEXT,
    price       REAL     NOT NULL CHECK (price > 0),
    owner_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
INSERT INTO items_old (id, title, description, price, owner_id, created_at, updated_at)
    SELECT id, title, description, price, owner_id, created_at, updated_at FROM items;
DROP TABLE items;
ALTER TABLE items_old RENAME TO items;
CREATE INDEX items_owner_id_idx ON items (owner_id);

COMMIT;
PRAGMA foreign_keys = ON;
