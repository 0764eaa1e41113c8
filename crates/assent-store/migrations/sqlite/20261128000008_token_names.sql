-- Every token name ever used, so a name is never given to a second token:
-- re-creating a revoked token's name would otherwise hand its approvals,
-- grants and audit history to whoever holds the new token. Filled from the
-- live tokens and from every `token.created` event (revoked tokens' rows are
-- gone, their events are not).
CREATE TABLE token_names (
    name        TEXT PRIMARY KEY NOT NULL,
    first_used  INTEGER NOT NULL
);
INSERT INTO token_names (name, first_used)
    SELECT name, created_at FROM tokens;
INSERT OR IGNORE INTO token_names (name, first_used)
    SELECT json_extract(data, '$.name'), MIN(at) FROM events
    WHERE type = 'token.created' AND json_extract(data, '$.name') IS NOT NULL
    GROUP BY json_extract(data, '$.name');
