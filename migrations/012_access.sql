-- Roles are enforced on every API route (issue 7): the bootstrap admin token (kind 'admin') is
-- replaced by the built-in `admin` user and personal API tokens, so the old ones stop working.
DELETE FROM api_tokens WHERE kind = 'admin';
