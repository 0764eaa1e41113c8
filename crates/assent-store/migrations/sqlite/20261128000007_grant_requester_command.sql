-- Session grants answer only the requester whose approval made them, and a
-- grant made with grant_match "command" answers shell requests whose every
-- simple command starts with its prefix. Existing session grants belong to
-- the requester of the approval that made them.
ALTER TABLE grants ADD COLUMN requester TEXT;
ALTER TABLE grants ADD COLUMN command_prefix TEXT;
UPDATE grants SET requester = (SELECT a.requester FROM approvals a WHERE a.id = grants.approval_id)
    WHERE session_id IS NOT NULL;
