-- Web console sessions. The cookie's secret is kept only as its SHA-256
-- (`id_sha256`). A session ends at `expires_at`, at sign-out (the row is
-- deleted), or when the token it was made from stops authenticating: the
-- token's SHA-256 is kept so every request can check that token again.
CREATE TABLE sessions (
    id_sha256     TEXT PRIMARY KEY NOT NULL,
    token_sha256  TEXT NOT NULL,
    principal     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
