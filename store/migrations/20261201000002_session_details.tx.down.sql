ALTER TABLE sessions DROP COLUMN rotated_at;
--bun:split
ALTER TABLE sessions DROP COLUMN previous_jti;
--bun:split
ALTER TABLE sessions DROP COLUMN ip_address;
--bun:split
ALTER TABLE sessions DROP COLUMN user_agent;
--bun:split
ALTER TABLE sessions DROP COLUMN last_used_at;
