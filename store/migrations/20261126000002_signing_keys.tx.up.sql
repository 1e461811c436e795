-- Ed25519 signing keys (JWT_SIGNING=ed25519), shared by every instance: the newest signs, older
-- ones verify until the tokens they signed have expired.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at {{.Time}} NOT NULL
);
