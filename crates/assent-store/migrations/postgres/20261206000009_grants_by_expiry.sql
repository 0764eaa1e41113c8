-- Each write batch that creates approvals first asks whether any grant is
-- still live (`expires_at` in the future); this index answers that at once
-- however many grants have expired.
CREATE INDEX grants_by_expiry ON grants (expires_at);
