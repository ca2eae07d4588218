// What a run sees: organization, repository and environment secrets and variables with GitHub's
// precedence (environment > repository > organization), only its own repository's, environment
// names matched case-insensitively; variables are plain CRUD with the same names and caps; and
// secret references read from workflow text.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  deleteVariable,
  environmentScope,
  getVariable,
  listVariables,
  missingSecrets,
  missingSecretsWarning,
  organizationScope,
  referencedSecrets,
  repositoryScope,
  secretNamesForRun,
  secretsForRun,
  setSecret,
  setVariable,
  varsForRun,
  type Kms,
  type Scope,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, tempDir, type TempDir } from "./helpers.js";

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let acme: number;
let app: number;
let lib: number;

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  acme = await seedOrganization(db.pool, "acme");
  app = await seedRepository(db.pool, acme, "acme/app");
  lib = await seedRepository(db.pool, acme, "acme/lib");
  const put = async (scope: Scope, name: string, value: string): Promise<void> => {
    // Secrets are at least 8 characters (the masking minimum); variables keep the short value.
    await setSecret(db.pool, kms, scope, { name, value: `${value}-secret`, actor: "t" });
    await setVariable(db.pool, scope, { name, value: `var ${value}`, actor: "t" });
  };
  await put(organizationScope(acme), "EVERYWHERE", "org");
  await put(organizationScope(acme), "ORG_ONLY", "org");
  await put(repositoryScope(acme, app), "EVERYWHERE", "repo");
  await put(repositoryScope(acme, app), "REPO_ONLY", "repo");
  await put(environmentScope(acme, app, "Production"), "EVERYWHERE", "env");
  await put(environmentScope(acme, app, "production"), "ENV_ONLY", "env");
  await put(environmentScope(acme, app, "staging"), "STAGING_ONLY", "staging");
  await put(repositoryScope(acme, lib), "LIB_ONLY", "lib");
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

describe("precedence", () => {
  it("a run without an environment: repository over organization, never another repository's", async () => {
    const s = { organizationId: acme, repositoryId: app };
    assert.deepEqual(await secretsForRun(db.pool, kms, s), {
      EVERYWHERE: "repo-secret",
      ORG_ONLY: "org-secret",
      REPO_ONLY: "repo-secret",
    });
    assert.deepEqual(await varsForRun(db.pool, s), {
      EVERYWHERE: "var repo",
      ORG_ONLY: "var org",
      REPO_ONLY: "var repo",
    });
    assert.deepEqual(await secretNamesForRun(db.pool, s), ["EVERYWHERE", "ORG_ONLY", "REPO_ONLY"]);
  });

  it("a job in an environment (any case): environment over repository over organization", async () => {
    const s = { organizationId: acme, repositoryId: app, environment: "PRODUCTION" };
    assert.deepEqual(await secretsForRun(db.pool, kms, s), {
      ENV_ONLY: "env-secret",
      EVERYWHERE: "env-secret",
      ORG_ONLY: "org-secret",
      REPO_ONLY: "repo-secret",
    });
    assert.equal((await varsForRun(db.pool, s)).EVERYWHERE, "var env");
  });

  it("another repository sees the organization's and its own", async () => {
    assert.deepEqual(
      await secretsForRun(db.pool, kms, {
        organizationId: acme,
        repositoryId: lib,
        environment: "production",
      }),
      {
        EVERYWHERE: "org-secret",
        LIB_ONLY: "lib-secret",
        ORG_ONLY: "org-secret",
      },
    );
  });
});

describe("variables", () => {
  it("create, replace, read, list and delete, values shown", async () => {
    const scope = repositoryScope(acme, lib);
    const made = await setVariable(db.pool, scope, { name: "region", value: "eu-west-1", actor: "kim" });
    assert.equal(made.created, true);
    assert.equal(made.variable.name, "REGION");
    const replaced = await setVariable(db.pool, scope, {
      name: "REGION",
      value: "eu-central-1",
      actor: "lee",
    });
    assert.equal(replaced.created, false);
    assert.equal(replaced.variable.createdBy, "kim");
    assert.equal(replaced.variable.updatedBy, "lee");
    assert.equal((await getVariable(db.pool, scope, "Region")).value, "eu-central-1");
    assert.deepEqual(
      (await listVariables(db.pool, scope)).map((v) => [v.name, v.value]),
      [
        ["LIB_ONLY", "var lib"],
        ["REGION", "eu-central-1"],
      ],
    );
    await deleteVariable(db.pool, scope, "region");
    await assert.rejects(getVariable(db.pool, scope, "REGION"), (e) => isAirlockError(e, "NOT_FOUND"));
    await assert.rejects(setVariable(db.pool, scope, { name: "GITHUB_X", value: "v", actor: "a" }), (e) =>
      isAirlockError(e, "SECRET_INVALID"),
    );
    await assert.rejects(
      setVariable(db.pool, scope, { name: "BIG", value: "v".repeat(49153), actor: "a" }),
      (e) => isAirlockError(e, "SECRET_TOO_LARGE"),
    );
  });
});

describe("references in workflow text", () => {
  it("finds secrets.NAME and secrets['NAME'] outside comments, upper-cased, without GITHUB_TOKEN", () => {
    const text = [
      "on: push",
      "# secrets.IN_A_COMMENT",
      "jobs:",
      "  a:",
      "    if: secrets.deploy_key != ''",
      "    env: { T: '${{ secrets.GITHUB_TOKEN }}', U: \"${{ secrets['Other_One'] }}\" }",
      "    steps: [{ run: 'echo ${{ secrets.DEPLOY_KEY }} ${{secrets.npm}}' }]",
    ].join("\n");
    const names = referencedSecrets(text);
    assert.deepEqual(names, ["DEPLOY_KEY", "NPM", "OTHER_ONE"]);
    assert.deepEqual(missingSecrets(names, ["npm", "DEPLOY_KEY"]), ["OTHER_ONE"]);
    assert.equal(
      missingSecretsWarning("ci.yml", ["OTHER_ONE"]),
      "ci.yml: secret OTHER_ONE is not set (it will be empty)",
    );
  });
});
