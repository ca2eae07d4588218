// The secrets and variables API in-process over a real database and a local KMS: secrets are
// write-only (no response, error or audit entry carries a value; the database holds none in
// clear), names are GitHub's (one-line SECRET_INVALID), values are capped at 48 KB (413), every
// change is audited with name, level and version; variables are plain CRUD; what a run would see
// follows GitHub's precedence.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { readSecret, secretsForRun, varsForRun } from "../../src/secrets/index.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let repo = 0;
let org = 0;
const VALUE = "hunter2-do-not-show";

before(async () => {
  s = await startTestServer();
  await call("POST", "/api/v1/organizations", { name: "acme" });
  const r = await call("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: "https://git.example.test/acme/app.git",
    organization: "acme",
  });
  repo = (r.json as { id: number }).id;
  org = Number((await s.db.pool.query("SELECT id FROM organizations WHERE name = 'acme'")).rows[0].id);
});
after(async () => {
  await s?.close();
});

interface Called {
  status: number;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON, checked field by field
  json: any;
  res: LightMyRequestResponse;
}

/** Every answer is checked for the value before anything else. */
async function call(
  method: "GET" | "PUT" | "POST" | "DELETE",
  url: string,
  payload?: unknown,
): Promise<Called> {
  const res = await s.app.inject({
    method,
    url,
    headers: { ...s.auth, ...(typeof payload === "string" ? { "content-type": "application/json" } : {}) },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  assert.ok(!res.body.includes(VALUE), `${method} ${url} answered with the value: ${res.body}`);
  assert.ok(!JSON.stringify(res.headers).includes(VALUE));
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text: res.body, json, res };
}

const ORG = "/api/v1/organizations/acme";
const REPO = (): string => `/api/v1/repositories/${repo}`;
const ENV = (env = "production"): string => `${REPO()}/environments/${env}`;

describe("secrets API", () => {
  it("sets a secret write-only: 201 then 200 with the next version; lists show names, versions, who and when", async () => {
    const made = await call("PUT", `${ORG}/secrets/deploy_key`, { value: VALUE });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual(Object.keys(made.json).sort(), [
      "createdAt",
      "createdBy",
      "environment",
      "level",
      "name",
      "updatedAt",
      "updatedBy",
      "version",
    ]);
    assert.equal(made.json.name, "DEPLOY_KEY");
    assert.equal(made.json.level, "organization");
    assert.equal(made.json.createdBy, "ops");
    const again = await call("PUT", `${ORG}/secrets/DEPLOY_KEY`, { value: `${VALUE}-2` });
    assert.equal(again.status, 200);
    assert.equal(again.json.version, 2);
    const list = await call("GET", `${ORG}/secrets`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.map((x: { name: string; version: number }) => [x.name, x.version]),
      [["DEPLOY_KEY", 2]],
    );
    const one = await call("GET", `${ORG}/secrets/Deploy_Key`);
    assert.equal(one.json.version, 2);
    assert.equal(
      await readSecret(
        s.db.pool,
        s.kms,
        { organizationId: org, repositoryId: null, environment: null },
        "DEPLOY_KEY",
      ),
      `${VALUE}-2`,
    );
  });

  it("repository and environment secrets; environment names are case-insensitive", async () => {
    assert.equal((await call("PUT", `${REPO()}/secrets/DEPLOY_KEY`, { value: VALUE })).status, 201);
    assert.equal(
      (await call("PUT", `${ENV("Production")}/secrets/DEPLOY_KEY`, { value: VALUE })).status,
      201,
    );
    const env = await call("GET", `${ENV("PRODUCTION")}/secrets`);
    assert.deepEqual(
      env.json.map((x: { name: string; level: string; environment: string }) => [
        x.name,
        x.level,
        x.environment,
      ]),
      [["DEPLOY_KEY", "environment", "production"]],
    );
    assert.equal((await call("GET", `${REPO()}/secrets`)).json.length, 1);
    assert.equal((await call("GET", `${ENV("staging")}/secrets`)).json.length, 0);
  });

  it("keeps values out of the database in clear, out of the audit log, and out of every error", async () => {
    const rows = JSON.stringify((await s.db.pool.query("SELECT * FROM secrets")).rows);
    assert.ok(!rows.includes(VALUE) && !rows.includes(Buffer.from(VALUE).toString("hex")));
    const audit = await s.db.pool.query<{ action: string; details: Record<string, unknown> }>(
      "SELECT action, details FROM audit_log WHERE action LIKE 'secret.%' ORDER BY seq",
    );
    assert.ok(!JSON.stringify(audit.rows).includes(VALUE));
    assert.deepEqual(
      audit.rows.map((r) => [r.action, r.details.name, r.details.version, r.details.level]),
      [
        ["secret.created", "DEPLOY_KEY", 1, "organization"],
        ["secret.updated", "DEPLOY_KEY", 2, "organization"],
        ["secret.created", "DEPLOY_KEY", 1, "repository"],
        ["secret.created", "DEPLOY_KEY", 1, "environment"],
      ],
    );
    // Malformed JSON carrying the value, a wrong type, extra keys: 400, and never the value.
    for (const payload of [`{"value": ${VALUE}}`, `{"value": "${VALUE}", "x": 1`, `{"value": ["${VALUE}"]}`])
      assert.equal((await call("PUT", `${ORG}/secrets/X`, payload)).status, 400);
    assert.equal((await call("PUT", `${ORG}/secrets/X`, { value: VALUE, extra: VALUE })).status, 400);
    assert.equal((await call("PUT", `${ORG}/secrets/1X`, { value: VALUE })).status, 400);
  });

  it("refuses names GitHub refuses with one line naming every problem", async () => {
    for (const [name, problem] of [
      ["1st-key", /only letters, digits and '_'.*; it must not start with a digit/],
      ["GITHUB_TOKEN", /GITHUB_ prefix is reserved/],
      ["has%20space", /only letters/],
    ] as const) {
      const r = await call("PUT", `${REPO()}/secrets/${name}`, { value: VALUE });
      assert.equal(r.status, 400, name);
      assert.equal(r.json.error.code, "SECRET_INVALID");
      assert.match(r.json.error.message, problem);
      assert.ok(!r.json.error.message.includes("\n"));
    }
    const env = await call("PUT", `${ENV("%20prod")}/secrets/OK`, { value: VALUE });
    assert.equal(env.status, 400);
    assert.equal(env.json.error.code, "SECRET_INVALID");
  });

  it("caps values at 48 KB with 413, and refuses an empty value", async () => {
    assert.equal((await call("PUT", `${REPO()}/secrets/BIG`, { value: "v".repeat(48 * 1024) })).status, 201);
    const big = await call("PUT", `${REPO()}/secrets/BIG`, { value: "v".repeat(48 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, "SECRET_TOO_LARGE");
    assert.match(big.json.error.message, /49153 bytes; the limit is 49152/);
    assert.equal(
      (await call("PUT", `${REPO()}/secrets/EMPTY`, { value: "" })).json.error.code,
      "SECRET_INVALID",
    );
  });

  it("refuses a value shorter than the masking minimum with 400 SECRET_TOO_SHORT, in one line", async () => {
    const short = await call("PUT", `${REPO()}/secrets/PIN`, { value: "4711" });
    assert.equal(short.status, 400);
    assert.equal(short.json.error.code, "SECRET_TOO_SHORT");
    assert.match(short.json.error.message, /^secret PIN is shorter than 8 characters[^\n]*$/);
    assert.ok(!JSON.stringify(short.json).includes("4711"));
    assert.equal((await call("GET", `${REPO()}/secrets/PIN`)).status, 404);
  });

  it("deletes a secret (audited); then it is 404", async () => {
    assert.equal((await call("DELETE", `${REPO()}/secrets/big`)).status, 204);
    const gone = await call("DELETE", `${REPO()}/secrets/BIG`);
    assert.equal(gone.status, 404);
    assert.equal((await call("GET", `${REPO()}/secrets/BIG`)).status, 404);
    const { rows } = await s.db.pool.query("SELECT details FROM audit_log WHERE action = 'secret.deleted'");
    assert.equal(rows[0].details.name, "BIG");
  });

  it("an unknown organization or repository is 404", async () => {
    assert.equal((await call("GET", "/api/v1/organizations/nope/secrets")).status, 404);
    assert.equal((await call("PUT", "/api/v1/repositories/999999/secrets/X", { value: VALUE })).status, 404);
  });
});

describe("variables API", () => {
  it("creates, replaces, reads, lists and deletes variables, values shown", async () => {
    const made = await call("PUT", `${ORG}/variables/region`, { value: "eu-west-1" });
    assert.equal(made.status, 201);
    assert.equal(made.json.value, "eu-west-1");
    assert.equal((await call("PUT", `${REPO()}/variables/REGION`, { value: "eu-central-1" })).status, 201);
    const replaced = await call("PUT", `${REPO()}/variables/Region`, { value: "us-east-1" });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.json.value, "us-east-1");
    assert.equal((await call("PUT", `${ENV()}/variables/TIER`, { value: "prod" })).status, 201);
    assert.deepEqual(
      (await call("GET", `${REPO()}/variables`)).json.map((v: { name: string; value: string }) => [
        v.name,
        v.value,
      ]),
      [["REGION", "us-east-1"]],
    );
    assert.equal((await call("GET", `${ENV()}/variables/tier`)).json.value, "prod");
    assert.equal((await call("PUT", `${REPO()}/variables/GITHUB_X`, { value: "v" })).status, 400);
    assert.equal((await call("PUT", `${REPO()}/variables/X`, { value: "v".repeat(49153) })).status, 413);
    assert.equal((await call("PUT", `${REPO()}/variables/GONE`, { value: "v" })).status, 201);
    assert.equal((await call("DELETE", `${REPO()}/variables/gone`)).status, 204);
    assert.equal((await call("GET", `${REPO()}/variables/GONE`)).status, 404);
    const audit = await s.db.pool.query(
      "SELECT action FROM audit_log WHERE action LIKE 'variable.%' ORDER BY seq",
    );
    assert.deepEqual(
      audit.rows.map((r: { action: string }) => r.action),
      [
        "variable.created",
        "variable.created",
        "variable.updated",
        "variable.created",
        "variable.created",
        "variable.deleted",
      ],
    );
  });

  it("what a run sees: environment over repository over organization", async () => {
    const scope = { organizationId: org, repositoryId: repo };
    assert.deepEqual(await varsForRun(s.db.pool, scope), { REGION: "us-east-1" });
    assert.deepEqual(await varsForRun(s.db.pool, { ...scope, environment: "production" }), {
      REGION: "us-east-1",
      TIER: "prod",
    });
    await call("PUT", `${ENV()}/secrets/ONLY_ENV`, { value: "env-only-value" });
    const secrets = await secretsForRun(s.db.pool, s.kms, { ...scope, environment: "production" });
    assert.deepEqual(Object.keys(secrets).sort(), ["DEPLOY_KEY", "ONLY_ENV"]);
    assert.equal(secrets.DEPLOY_KEY, VALUE);
    assert.deepEqual(Object.keys(await secretsForRun(s.db.pool, s.kms, scope)), ["DEPLOY_KEY"]);
  });
});
