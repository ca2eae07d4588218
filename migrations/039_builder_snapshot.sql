-- Who built a job, as it was when the job was assigned (issue 13; docs/integrity.md
-- "Corroboration"). A node's worker trust and operator are an administrator's word and can change
-- at any time; a verdict on a build must weigh the node as it was when it built: a node made
-- trusted after it built a job as an untrusted one does not make that build a trusted worker's,
-- and renaming an operator does not make two builds of one party independent. Recorded by
-- assignJobs (src/queue/assign.ts) from the nodes row in the same statement that sets node_id, and
-- cleared with node_id when the job goes back to the queue. `assigned_operator_key` is
-- OPERATOR_KEY (src/queue/claim.ts) of that moment: how replicas tell operators apart.
-- Rows assigned before this migration keep NULL: readers fall back to the node's current values.
ALTER TABLE jobs
  ADD COLUMN assigned_worker_trust text CHECK (assigned_worker_trust IN ('trusted', 'untrusted')),
  ADD COLUMN assigned_operator text CHECK (assigned_operator IS NULL OR length(assigned_operator) BETWEEN 1 AND 100),
  ADD COLUMN assigned_operator_key text,
  ADD CONSTRAINT jobs_assigned_worker CHECK (
    (assigned_worker_trust IS NULL) = (assigned_operator_key IS NULL)
    AND (assigned_worker_trust IS NOT NULL OR assigned_operator IS NULL));
