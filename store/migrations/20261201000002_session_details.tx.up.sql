-- What "your devices" shows of a session (issue 10), and what a refresh within the reuse grace needs
-- to hand back the same successor: the refresh token the latest rotation consumed and when it ran
-- (the successor is re-signed from refresh_jti, rotated_at and expires_at; no token is stored).
ALTER TABLE sessions ADD COLUMN last_used_at {{.Time}};
--bun:split
UPDATE sessions SET last_used_at = created_at;
--bun:split
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
--bun:split
ALTER TABLE sessions ADD COLUMN ip_address TEXT;
--bun:split
ALTER TABLE sessions ADD COLUMN previous_jti TEXT;
--bun:split
ALTER TABLE sessions ADD COLUMN rotated_at {{.Time}};
