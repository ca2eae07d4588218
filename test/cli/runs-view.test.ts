// The detail view of a run says why a queued run has not started (its concurrency group).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runDetail } from "../../src/cli/commands/runs-view.js";
import type { RunDetail } from "../../src/cli/api/index.js";

const base: RunDetail = {
  id: 14,
  graph: null,
  repositoryId: 1,
  number: 7,
  event: "push",
  ref: "refs/heads/main",
  commit: "0123456789abcdef0123456789abcdef01234567",
  state: "queued",
  conclusion: null,
  url: "http://airlock.test/runs/14",
  repository: "acme/app",
  title: "",
  trigger: "webhook",
  actor: "alice",
  createdAt: "2026-01-01T00:00:00.000Z",
  startedAt: null,
  finishedAt: null,
  error: null,
  workflowName: "Deploy",
  workflowFile: ".github/workflows/deploy.yml",
  trustTier: "trusted",
  approval: null,
  approvalReason: null,
  approvedBy: null,
  waitReason: "waiting for concurrency group 'deploy-main' (run 12 is running)",
  branch: "main",
  durationMs: null,
  artifactMismatchAt: null,
  attempt: 1,
  shownAttempt: 1,
  attempts: [],
  jobs: [],
};

describe("runs view", () => {
  it("shows a queued run's wait reason, and nothing when there is none", () => {
    assert.match(
      runDetail(base),
      /^Waiting: {2}waiting for concurrency group 'deploy-main' \(run 12 is running\)$/m,
    );
    assert.doesNotMatch(runDetail({ ...base, waitReason: null }), /Waiting:/);
  });
});
