-- Grants: remembered decisions (docs/policy.md). Revoking deletes the row; the
-- grant.created / grant.revoked events keep the history.
CREATE TABLE grants (
    id           TEXT PRIMARY KEY NOT NULL,
    effect       TEXT NOT NULL,              -- allow | deny
    action       TEXT NOT NULL,
    args_sha256  TEXT,                       -- NULL: any args
    session_id   TEXT,                       -- NULL: any session (timeboxed)
    expires_at   INTEGER NOT NULL,
    approval_id  TEXT NOT NULL REFERENCES approvals (id),
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX grants_by_action ON grants (action, expires_at);
CREATE INDEX grants_by_session ON grants (session_id, expires_at) WHERE session_id IS NOT NULL;
