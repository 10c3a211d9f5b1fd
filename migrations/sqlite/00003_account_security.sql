-- +goose Up
-- The last rotation of each session: the refresh token it replaced and
-- when. The same token presented again within a few seconds (a double
-- click, a retried request) gets the pair it was exchanged for instead of
-- revoking the session as a stolen token.
ALTER TABLE refresh_sessions ADD COLUMN prev_token_hash TEXT;
ALTER TABLE refresh_sessions ADD COLUMN rotated_at DATETIME;
-- Recovery emails are throttled per account by the creation time of its
-- latest reset token.
CREATE INDEX password_reset_tokens_user_created_idx ON password_reset_tokens (user_id, created_at);

-- +goose Down
DROP INDEX password_reset_tokens_user_created_idx;
ALTER TABLE refresh_sessions DROP COLUMN rotated_at;
ALTER TABLE refresh_sessions DROP COLUMN prev_token_hash;
