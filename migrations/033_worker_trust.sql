-- Worker trust (issue 13, item 5): a node is `trusted` (run by this installation's operator) or
-- `untrusted` (contributed by a third party), and records who operates it. Set by an
-- administrator (at registration or later), never by the node, and never from its past behaviour:
-- artifacts built by untrusted workers count only when corroborated (docs/integrity.md).
ALTER TABLE nodes
  ADD COLUMN worker_trust text NOT NULL DEFAULT 'trusted' CHECK (worker_trust IN ('trusted', 'untrusted')),
  ADD COLUMN operator text CHECK (operator IS NULL OR length(operator) BETWEEN 1 AND 100);

ALTER TABLE node_registrations
  ADD COLUMN worker_trust text NOT NULL DEFAULT 'trusted' CHECK (worker_trust IN ('trusted', 'untrusted')),
  ADD COLUMN operator text CHECK (operator IS NULL OR length(operator) BETWEEN 1 AND 100);
