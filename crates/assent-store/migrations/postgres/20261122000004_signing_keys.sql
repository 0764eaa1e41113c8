-- Signing keys for receipts and audit exports (Ed25519), shared by every
-- instance through the store. The private key is kept here, in the clear
-- (see docs/security.md). `active` is 1 for the key that signs and NULL for
-- retired keys, which stay published so what they signed still verifies; the
-- UNIQUE constraint lets concurrent first starts race with
-- INSERT … ON CONFLICT DO NOTHING and all read back the same key.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    private_key  TEXT NOT NULL,              -- PKCS#8 DER, base64url
    public_key   TEXT NOT NULL,              -- raw 32 bytes, base64url
    created_at   BIGINT NOT NULL,
    active       BIGINT UNIQUE
);

-- Receipts spent through POST /v1/receipts/redeem: each jti once.
CREATE TABLE redeemed_receipts (
    jti          TEXT PRIMARY KEY NOT NULL,
    approval_id  TEXT NOT NULL,
    redeemed_by  TEXT NOT NULL,
    redeemed_at  BIGINT NOT NULL
);
