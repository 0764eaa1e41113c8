-- When a pending approval is due to escalate; cleared once it has.
ALTER TABLE approvals ADD COLUMN escalate_at BIGINT;
CREATE INDEX approvals_pending_by_escalation ON approvals (escalate_at)
    WHERE status = 'pending' AND escalate_at IS NOT NULL;
