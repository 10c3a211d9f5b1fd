-- +goose Up
-- Password-reset tokens: only the SHA-256 of each token is stored. A token
-- works once (used_at) and until expires_at; using one uses up every other
-- token of the same user too.
CREATE TABLE password_reset_tokens (
    token_hash TEXT     PRIMARY KEY,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX password_reset_tokens_user_id_idx ON password_reset_tokens (user_id);
CREATE INDEX password_reset_tokens_expires_at_idx ON password_reset_tokens (expires_at);

-- +goose Down
DROP TABLE password_reset_tokens;
