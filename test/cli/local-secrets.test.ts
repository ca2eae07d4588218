// Secrets of a local `airlock run`: `.secrets` in the repository by default, --secret-file instead
// of it, `-s NAME=value` and `-s NAME` (from the environment) on top; and the visible warning for a
// workflow that refers to a secret set nowhere.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { localSecrets, missingSecretWarnings } from "../../src/cli/local-secrets.js";
import type { Workflow } from "../../src/workflow/model.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "airlock-local-secrets-"));
  await writeFile(join(root, ".secrets"), "FROM_DEFAULT=d\nSHARED=default\n");
  await writeFile(join(root, "other.env"), "FROM_FILE=f\nSHARED=file\n");
  await mkdir(join(root, ".github/workflows"), { recursive: true });
  await writeFile(
    join(root, ".github/workflows/ci.yml"),
    "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.FROM_DEFAULT }} ${{ secrets.NOWHERE }} ${{ secrets.GITHUB_TOKEN }}\n",
  );
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("local secrets", () => {
  it("reads .secrets by default, -s on top; -s NAME takes the environment variable", async () => {
    const s = await localSecrets({ root, secret: ["SHARED=flag", "FROM_ENV"], env: { FROM_ENV: "e" } });
    assert.deepEqual(s, { GITHUB_TOKEN: "", FROM_DEFAULT: "d", SHARED: "flag", FROM_ENV: "e" });
  });

  it("--secret-file replaces the default file", async () => {
    const s = await localSecrets({ root, secretFile: join(root, "other.env"), env: {} });
    assert.deepEqual(s, { GITHUB_TOKEN: "", FROM_FILE: "f", SHARED: "file" });
  });

  it("refuses -s NAME without such a variable, and a bad name", async () => {
    await assert.rejects(localSecrets({ root, secret: ["MISSING"], env: {} }), (e) =>
      isAirlockError(e, "USAGE"),
    );
    await assert.rejects(localSecrets({ root, secret: ["a-b=1"], env: {} }), (e) =>
      isAirlockError(e, "USAGE"),
    );
  });

  it("warns about a secret the workflow refers to and nobody set", async () => {
    const w = { file: ".github/workflows/ci.yml" } as Workflow;
    assert.deepEqual(await missingSecretWarnings(root, [w], { GITHUB_TOKEN: "", FROM_DEFAULT: "d" }), [
      "warning: .github/workflows/ci.yml: secret NOWHERE is not set (it will be empty)",
    ]);
    assert.deepEqual(await missingSecretWarnings(root, [w], { FROM_DEFAULT: "d", NOWHERE: "n" }), []);
  });
});
