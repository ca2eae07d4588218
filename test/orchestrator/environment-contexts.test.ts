// What a job naming an environment is given (the queue executor's `prepare`, real database and
// KMS): the environment's own secrets and variables laid over what the job already has, and
// nothing else. A job of a called (reusable) workflow has only what its caller passed; naming an
// environment must not hand it the caller's organization and repository secrets (GitHub adds the
// environment level only), nor replace a passed value with a repository one.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { environmentPrepare } from "../../src/orchestrator/environments.js";
import type { InstanceRequest } from "../../src/planner/index.js";
import {
  environmentScope,
  organizationScope,
  repositoryScope,
  setSecret,
  setVariable,
  type Kms,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, tempDir, type TempDir } from "../secrets/helpers.js";

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let org = 0;
let repo = 0;

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  org = await seedOrganization(db.pool, "acme");
  repo = await seedRepository(db.pool, org, "acme/app");
  const secret = (scope: Parameters<typeof setSecret>[2], name: string, value: string) =>
    setSecret(db.pool, kms, scope, { name, value, actor: "t" });
  const variable = (scope: Parameters<typeof setVariable>[1], name: string, value: string) =>
    setVariable(db.pool, scope, { name, value, actor: "t" });
  await secret(organizationScope(org), "ORG_ONLY", "organization-secret-value");
  await secret(repositoryScope(org, repo), "REPO_ONLY", "repository-secret-value");
  await secret(repositoryScope(org, repo), "DEPLOY_KEY", "repository-deploy-key");
  await secret(environmentScope(org, repo, "production"), "ENV_ONLY", "environment-secret-value");
  await secret(environmentScope(org, repo, "production"), "SHARED", "environment-shared-value");
  await variable(organizationScope(org), "ORG_VAR", "organization");
  await variable(repositoryScope(org, repo), "REPO_VAR", "repository");
  await variable(environmentScope(org, repo, "production"), "LEVEL", "production");
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

const request = (contexts: { secrets: Record<string, string>; vars: Record<string, string> }) =>
  ({
    description: { jobId: "deploy", environment: { name: "Production" }, contexts },
  }) as unknown as InstanceRequest;

describe("a job naming an environment", () => {
  it("inside a called workflow: gets the environment's secrets only, over what its caller passed", async () => {
    const prepare = environmentPrepare(db.pool, kms, { organizationId: org, repositoryId: repo });
    const desc = await prepare(
      request({
        secrets: { PASSED: "passed-by-the-caller", DEPLOY_KEY: "passed-deploy-key", SHARED: "passed" },
        vars: { LEVEL: "caller" },
      }),
    );
    assert.deepEqual(desc.contexts.secrets, {
      PASSED: "passed-by-the-caller",
      DEPLOY_KEY: "passed-deploy-key",
      SHARED: "environment-shared-value",
      ENV_ONLY: "environment-secret-value",
    });
    assert.deepEqual(desc.contexts.vars, { LEVEL: "production" });
  });

  it("without a KMS: the environment's variables only", async () => {
    const prepare = environmentPrepare(db.pool, undefined, { organizationId: org, repositoryId: repo });
    const desc = await prepare(request({ secrets: {}, vars: {} }));
    assert.deepEqual(desc.contexts.secrets, {});
    assert.deepEqual(desc.contexts.vars, { LEVEL: "production" });
  });
});
