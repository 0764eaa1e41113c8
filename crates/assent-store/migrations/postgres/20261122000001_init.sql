-- Approvals: the whole approval as a JSON document, plus the columns that
-- lists, filters and the expiry sweep need. Times are Unix milliseconds.
CREATE TABLE approvals (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,   -- UUIDv7, so ordering by id is ordering by creation
    status      TEXT NOT NULL,
    action      TEXT NOT NULL,
    requester   TEXT NOT NULL,
    session_id  TEXT,
    run_id      TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX approvals_pending_by_deadline ON approvals (expires_at) WHERE status = 'pending';
CREATE INDEX approvals_by_status ON approvals (status, id);
CREATE INDEX approvals_by_requester ON approvals (requester, id);
CREATE INDEX approvals_by_action ON approvals (action, id);
CREATE INDEX approvals_by_session ON approvals (session_id, id) WHERE session_id IS NOT NULL;
CREATE INDEX approvals_by_run ON approvals (run_id, id) WHERE run_id IS NOT NULL;

CREATE TABLE approval_labels (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (approval_id, key)
);
CREATE INDEX approval_labels_by_pair ON approval_labels (key, value, approval_id);

-- Idempotency keys are per requester: the same key from two agents names two approvals.
CREATE TABLE idempotency_keys (
    requester    TEXT NOT NULL,
    key          TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    approval_id  TEXT NOT NULL REFERENCES approvals (id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (requester, key)
);

-- The audit log. Append-only: no code path updates or deletes a row.
CREATE TABLE events (
    seq          BIGINT PRIMARY KEY NOT NULL,   -- gapless: assigned under the chain lock
    type         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    approval_id  TEXT,
    data         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX events_by_approval ON events (approval_id, seq) WHERE approval_id IS NOT NULL;

-- API tokens, stored only as their SHA-256.
CREATE TABLE tokens (
    name          TEXT PRIMARY KEY NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    groups        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
