-- The webhook outbox: one row per (event, webhook whose filter matches),
-- inserted in the transaction that appends the event, so a committed event
-- is never without its deliveries. Times are Unix milliseconds.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY NOT NULL,
    webhook_id       TEXT NOT NULL,               -- stable id of the configured webhook (from its URL)
    event_seq        INTEGER NOT NULL REFERENCES events (seq),
    status           TEXT NOT NULL,               -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,  -- requests answered (or failed) so far
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,                     -- a worker's claim; retried by others once past
    last_error       TEXT,
    finished_at      INTEGER,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
