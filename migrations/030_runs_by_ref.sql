-- Status badges (issue 11) ask for a repository's newest run on one branch, anonymously: an index
-- by (repository, ref) newest first keeps that one short index scan for a branch that never ran,
-- instead of a walk over every run of the repository.
CREATE INDEX runs_by_repository_ref ON runs (repository_id, ref, id DESC);
