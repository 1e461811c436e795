-- Types that differ between SQLite and PostgreSQL come from the template data (store.migrationTypes).
CREATE TABLE users (
  id {{.ID}},
  email TEXT NOT NULL,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_admin BOOLEAN NOT NULL DEFAULT FALSE,
  blocked BOOLEAN NOT NULL DEFAULT FALSE,
  created_at {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX users_email_key ON users (email);
--bun:split
CREATE TABLE categories (
  id {{.ID}},
  name TEXT NOT NULL,
  product_count BIGINT NOT NULL DEFAULT 0 CHECK (product_count >= 0),
  created_at {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX categories_name_key ON categories (name);
--bun:split
CREATE TABLE products (
  id {{.ID}},
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  price DOUBLE PRECISION NOT NULL CHECK (price >= 0),
  quantity DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
  category_id BIGINT NOT NULL REFERENCES categories (id),
  created_at {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX products_name_key ON products (name);
--bun:split
-- Keyset pagination within a category, and the foreign key's index.
CREATE INDEX products_category_id_id_idx ON products (category_id, id);
--bun:split
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  refresh_jti TEXT NOT NULL,
  created_at {{.Time}} NOT NULL,
  expires_at {{.Time}} NOT NULL,
  access_expires_at {{.Time}} NOT NULL,
  revoked_at {{.Time}}
);
--bun:split
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
--bun:split
-- Loading the revocation list reads revoked sessions whose last access token is still unexpired.
CREATE INDEX sessions_access_expires_at_idx ON sessions (access_expires_at);
--bun:split
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
