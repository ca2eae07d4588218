// matchesTrigger: GitHub's `on:` filter semantics (branches/tags/paths/types and their -ignore
// forms), checked on workflows parsed from YAML.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  matchesTrigger,
  parseWorkflow,
  triggerEventOf,
  type TriggerEvent,
  type Workflow,
} from "../../src/workflow/index.js";

function workflow(on: string): Workflow {
  const r = parseWorkflow("w.yml", `on:\n${on}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n`);
  assert.deepEqual(r.problems, []);
  assert.ok(r.workflow);
  return r.workflow;
}

type Case = [description: string, event: TriggerEvent, expected: boolean];

function cases(on: string, rows: Case[]): void {
  describe(on.replace(/\s+/g, " ").trim(), () => {
    const wf = workflow(on);
    for (const [title, event, expected] of rows) {
      it(title, () => assert.equal(matchesTrigger(wf, event), expected));
    }
  });
}

cases("  push:", [
  ["any branch push", { name: "push", ref: "refs/heads/x" }, true],
  ["any tag push", { name: "push", ref: "refs/tags/v1" }, true],
  ["another event", { name: "pull_request" }, false],
]);

cases("  push:\n    branches: [main, 'releases/**']", [
  ["matching branch", { name: "push", ref: "refs/heads/releases/v1/x" }, true],
  ["bare branch name", { name: "push", ref: "main" }, true],
  ["other branch", { name: "push", ref: "refs/heads/dev" }, false],
  ["tag push when only branches are filtered", { name: "push", ref: "refs/tags/v1" }, false],
  ["unknown ref", { name: "push" }, true],
]);

cases("  push:\n    tags: ['v*']", [
  ["matching tag", { name: "push", ref: "refs/tags/v1.2" }, true],
  ["other tag", { name: "push", ref: "refs/tags/release" }, false],
  ["branch push when only tags are filtered", { name: "push", ref: "refs/heads/main" }, false],
]);

cases("  push:\n    branches-ignore: ['dependabot/**']", [
  ["not ignored", { name: "push", ref: "refs/heads/main" }, true],
  ["ignored", { name: "push", ref: "refs/heads/dependabot/npm/x" }, false],
  ["tag push", { name: "push", ref: "refs/tags/v1" }, false],
]);

cases("  push:\n    tags-ignore: ['v0.*']", [
  ["not ignored tag", { name: "push", ref: "refs/tags/v1.0" }, true],
  ["ignored tag", { name: "push", ref: "refs/tags/v0.3" }, false],
]);

cases("  push:\n    branches: [main]\n    tags: ['v*']", [
  ["branch", { name: "push", ref: "refs/heads/main" }, true],
  ["tag", { name: "push", ref: "refs/tags/v2" }, true],
  ["other branch", { name: "push", ref: "refs/heads/dev" }, false],
]);

cases("  push:\n    branches: ['releases/**', '!releases/**-alpha']", [
  ["release", { name: "push", ref: "refs/heads/releases/10" }, true],
  ["negated alpha", { name: "push", ref: "refs/heads/releases/10-alpha" }, false],
]);

cases("  push:\n    paths: ['src/**', '!src/**/*.md']\n    tags: ['v*']\n    branches: ['**']", [
  ["a source file changed", { name: "push", ref: "refs/heads/main", changedFiles: ["src/a.ts"] }, true],
  ["only docs changed", { name: "push", ref: "refs/heads/main", changedFiles: ["src/x/README.md"] }, false],
  ["unrelated file", { name: "push", ref: "refs/heads/main", changedFiles: ["test/a.ts"] }, false],
  ["changed files unknown", { name: "push", ref: "refs/heads/main" }, true],
  [
    "paths are not evaluated for tags",
    { name: "push", ref: "refs/tags/v1", changedFiles: ["test/a.ts"] },
    true,
  ],
]);

cases("  push:\n    paths-ignore: ['docs/**']", [
  ["only ignored files", { name: "push", changedFiles: ["docs/a.md", "docs/b/c.md"] }, false],
  ["one file not ignored", { name: "push", changedFiles: ["docs/a.md", "src/a.ts"] }, true],
]);

cases("  pull_request:\n    branches: [main]", [
  ["default types: opened", { name: "pull_request", action: "opened", ref: "main" }, true],
  [
    "default types: synchronize",
    { name: "pull_request", action: "synchronize", ref: "refs/heads/main" },
    true,
  ],
  ["default types exclude closed", { name: "pull_request", action: "closed", ref: "main" }, false],
  ["base branch filtered", { name: "pull_request", action: "opened", ref: "dev" }, false],
]);

cases("  pull_request:\n    types: [closed, labeled]", [
  ["listed type", { name: "pull_request", action: "labeled" }, true],
  ["default type not listed", { name: "pull_request", action: "opened" }, false],
]);

cases("  issues:\n    types: opened\n  workflow_dispatch:", [
  ["listed type", { name: "issues", action: "opened" }, true],
  ["other type", { name: "issues", action: "deleted" }, false],
  ["no default types for other events", { name: "workflow_dispatch" }, true],
]);

cases("  workflow_run:\n    workflows: [Build, 'Deploy *']\n    types: [completed]\n    branches: [main]", [
  [
    "named workflow completed on main",
    { name: "workflow_run", action: "completed", ref: "refs/heads/main", workflow: "Build" },
    true,
  ],
  [
    "names are matched exactly, not as patterns",
    { name: "workflow_run", action: "completed", ref: "main", workflow: "Deploy prod" },
    false,
  ],
  ["another workflow", { name: "workflow_run", action: "completed", ref: "main", workflow: "Lint" }, false],
  ["another type", { name: "workflow_run", action: "requested", ref: "main", workflow: "Build" }, false],
  [
    "another head branch",
    { name: "workflow_run", action: "completed", ref: "refs/heads/dev", workflow: "Build" },
    false,
  ],
]);

cases("  workflow_run:\n    workflows: [Build]", [
  ["every type by default", { name: "workflow_run", action: "in_progress", workflow: "Build" }, true],
]);

cases("  workflow_run:\n    types: [completed]", [
  [
    "without workflows: no run triggers it",
    { name: "workflow_run", action: "completed", workflow: "Build" },
    false,
  ],
]);

cases("  repository_dispatch:\n    types: [deploy, 'test-*']", [
  ["listed event type", { name: "repository_dispatch", action: "deploy" }, true],
  ["types are names, not patterns", { name: "repository_dispatch", action: "test-unit" }, false],
  ["other event type", { name: "repository_dispatch", action: "other" }, false],
]);

cases("  repository_dispatch:", [
  ["any event type without types", { name: "repository_dispatch", action: "anything" }, true],
]);

cases("  merge_group:\n    branches: [main]", [
  [
    "checks_requested for main",
    { name: "merge_group", action: "checks_requested", ref: "refs/heads/main" },
    true,
  ],
  ["another base branch", { name: "merge_group", action: "checks_requested", ref: "refs/heads/dev" }, false],
  ["default type only", { name: "merge_group", action: "destroyed", ref: "refs/heads/main" }, false],
]);

describe("triggerEventOf: a GitHub-shaped payload's filter facts", () => {
  it("workflow_run: head branch and workflow name", () => {
    const e = triggerEventOf(
      "workflow_run",
      { action: "completed", workflow_run: { name: "Build", head_branch: "feature/x" } },
      "refs/heads/main",
    );
    assert.deepEqual(e, {
      name: "workflow_run",
      action: "completed",
      ref: "refs/heads/feature/x",
      workflow: "Build",
    });
  });
  it("merge_group: the target branch", () => {
    const e = triggerEventOf(
      "merge_group",
      { action: "checks_requested", merge_group: { base_ref: "refs/heads/main", head_ref: "refs/heads/q" } },
      "refs/heads/q",
    );
    assert.deepEqual(e, { name: "merge_group", action: "checks_requested", ref: "refs/heads/main" });
  });
  it("repository_dispatch: the event type as action, the run's ref", () => {
    const e = triggerEventOf(
      "repository_dispatch",
      { action: "deploy", client_payload: {} },
      "refs/heads/main",
    );
    assert.deepEqual(e, { name: "repository_dispatch", action: "deploy", ref: "refs/heads/main" });
  });
});
