// Effective permissions of a job, as the planner puts them in its JobDescription: the job's own
// replace the workflow's (not merged), neither gives GitHub's restricted default (no id-token),
// and a called workflow's jobs never get more than the calling job has.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jobPermissions } from "../../src/planner/permissions.js";
import {
  DEFAULT_PERMISSIONS,
  mayRequestIdToken,
  parseWorkflow,
  type Permissions,
  type Workflow,
} from "../../src/workflow/index.js";
import { read } from "../workflow/fixtures.js";

const wf = parseWorkflow("w.yml", read("valid", "permissions.yml")).workflow as Workflow;
const job = (id: string) => wf.jobs.find((j) => j.id === id)!;

describe("effective permissions", () => {
  it("a job without permissions: gets the workflow's; with them: only its own", () => {
    assert.deepEqual(jobPermissions({ workflow: wf }, job("inherits")), {
      contents: "read",
      "id-token": "write",
    });
    assert.deepEqual(jobPermissions({ workflow: wf }, job("none")), {});
    assert.deepEqual(jobPermissions({ workflow: wf }, job("map")), {
      contents: "write",
      "pull-requests": "read",
    });
    assert.ok(mayRequestIdToken(jobPermissions({ workflow: wf }, job("write-all"))));
    assert.ok(!mayRequestIdToken(jobPermissions({ workflow: wf }, job("read-all"))));
  });

  it("a workflow without permissions: the restricted default, without id-token", () => {
    const bare = { ...wf, permissions: undefined };
    assert.deepEqual(jobPermissions({ workflow: bare }, job("inherits")), DEFAULT_PERMISSIONS);
    assert.ok(!mayRequestIdToken(jobPermissions({ workflow: bare }, job("inherits"))));
  });

  it("inside a called workflow, the caller's permissions are the ceiling", () => {
    const cap = { contents: "read" as const };
    assert.deepEqual(jobPermissions({ workflow: wf, permissionsCap: cap }, job("write-all")), {
      contents: "read",
    });
    assert.ok(!mayRequestIdToken(jobPermissions({ workflow: wf, permissionsCap: cap }, job("inherits"))));
    const caller = { "id-token": "write" as const, contents: "write" as const };
    assert.deepEqual(jobPermissions({ workflow: wf, permissionsCap: caller }, job("inherits")), {
      contents: "read",
      "id-token": "write",
    });
  });

  it("a called workflow that sets no permissions inherits the calling job's (GitHub's rule)", () => {
    const bare = { ...wf, permissions: undefined };
    const caller: Permissions = { "id-token": "write", contents: "read" };
    const got = jobPermissions({ workflow: bare, permissionsCap: caller }, job("inherits"));
    assert.deepEqual(got, caller, "not the restricted default capped by the caller");
    assert.ok(mayRequestIdToken(got), "a reusable deploy workflow gets id-token: write from its caller");
    got.contents = "write";
    assert.equal(caller.contents, "read", "a copy, not the caller's object");
    // Its own permissions (the workflow's or the job's) still only lower the caller's.
    assert.deepEqual(jobPermissions({ workflow: bare, permissionsCap: caller }, job("map")), {
      contents: "read",
    });
    assert.deepEqual(jobPermissions({ workflow: bare, permissionsCap: caller }, job("none")), {});
  });
});
