// loadWorkflows on a real folder tree: every *.yml/*.yaml file, problems of all files together.
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ErrorCode, isAirlockError } from "../../src/errors/index.js";
import { loadWorkflows } from "../../src/workflow/index.js";
import { read } from "./fixtures.js";

describe("loadWorkflows", () => {
  let root = "";
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "airlock-wf-"));
    const dir = path.join(root, ".github", "workflows");
    await mkdir(path.join(dir, "nested"), { recursive: true });
    await writeFile(path.join(dir, "ci.yml"), read("valid", "ci.yml"));
    await writeFile(path.join(dir, "forms.yaml"), read("valid", "on-forms.yml"));
    await writeFile(path.join(dir, "bad.yml"), read("invalid", "schema.yml"));
    await writeFile(path.join(dir, "worse.yml"), read("invalid", "semantics.yml"));
    await writeFile(path.join(dir, "notes.txt"), "not a workflow");
    await writeFile(path.join(dir, "nested", "skip.yml"), read("valid", "ci.yml"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reads the default folder: valid workflows and the problems of all files", async () => {
    const { workflows, problems } = await loadWorkflows(root);
    assert.deepEqual(
      workflows.map((w) => w.file),
      [".github/workflows/ci.yml", ".github/workflows/forms.yaml"],
    );
    const files = new Set(problems.map((p) => p.file));
    assert.deepEqual([...files].sort(), [".github/workflows/bad.yml", ".github/workflows/worse.yml"]);
    assert.equal(problems.filter((p) => p.file.endsWith("worse.yml")).length, 8);
  });

  it("reads a single file", async () => {
    const { workflows, problems } = await loadWorkflows(root, ".github/workflows/forms.yaml");
    assert.deepEqual(problems, []);
    assert.equal(workflows.length, 1);
    assert.equal(workflows[0]?.name, "Forms");
  });

  it("throws WORKFLOW_NOT_FOUND for a missing target", async () => {
    await assert.rejects(loadWorkflows(root, "nope"), (err) =>
      isAirlockError(err, ErrorCode.WORKFLOW_NOT_FOUND),
    );
  });
});
