// Job identity tokens end to end: a real job in a real bubblewrap sandbox (no network) with
// `permissions: id-token: write` asks for a token exactly as @actions/core's getIDToken does (GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…, Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN, `{ value }`),
// through the machine's job services relay and the agent. The test then plays the relying party:
// discovery from the issuer, the key set over HTTP (jose createRemoteJWKSet), a wrong audience and
// an expired token refused. A job without the permission gets no variables; the request token is
// masked in the stored log and dead (401) once the job has ended; the job services answer nothing
// but the token path.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type RunView, type TestService } from "../helpers/service.js";

// What @actions/core's OidcClient does, plus two requests the job services must refuse.
const SCRIPT = `(async () => {
  const base = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const auth = { authorization: "Bearer " + process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, accept: "application/json" };
  const r = await fetch(base + "&audience=" + encodeURIComponent("sts.example.test"), { headers: auth });
  console.log("STATUS " + r.status);
  console.log("IDTOKEN " + (await r.json()).value);
  console.log("OTHER " + (await fetch(new URL("/api/v1/runs", base), { headers: auth })).status);
  console.log("BAD " + (await fetch(base, { headers: { authorization: "Bearer alk_idt_guess" } })).status);
})().catch((e) => { console.log("ERROR " + e.message); process.exit(1); });`;

const WORKFLOW = `on: push
jobs:
  cloud:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    steps:
      - env:
          SCRIPT: ${JSON.stringify(SCRIPT)}
        run: |
          T="$ACTIONS_ID_TOKEN_REQUEST_TOKEN"
          echo "WHOLE $T"
          echo "HALF1 \${T:0:20}"
          echo "HALF2 \${T:20}"
          /airlock/externals/node/bin/node -e "$SCRIPT"
  plain:
    runs-on: ubuntu-latest
    steps:
      - run: echo "VARS [\${ACTIONS_ID_TOKEN_REQUEST_URL:-none}] [\${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-none}]"
`;

let t: TestService;
let repo: TempRepo;
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t.stop();
  repo?.remove();
});

const field = (log: string, name: string): string =>
  log
    .split("\n")
    .find((l) => l.startsWith(`  | ${name} `))
    ?.slice(`  | ${name} `.length) ?? "";

describe("job identity tokens in a real sandbox", () => {
  it("a job gets a token a relying party verifies; nothing else is reachable; the request token dies with the job", async () => {
    repo = makeRepo({ ".github/workflows/ci.yml": WORKFLOW });
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/idt",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201, r.text);
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    await t.startAgent(await t.addNode("node-idt"));
    const run: RunView = await t.waitRun(trig.body.runs[0]!.id, 120_000);
    const job = (name: string) => run.jobs.find((j) => j.name === name)!;
    const log = (await t.api("GET", `/api/v1/jobs/${job("cloud").id}/logs`)).text;
    assert.equal(run.conclusion, "success", `${JSON.stringify(run)}\n${log}`);

    // The request token: masked whole, and dead now that the job has ended.
    assert.equal(field(log, "WHOLE"), "***", log);
    const requestToken = field(log, "HALF1") + field(log, "HALF2");
    assert.match(requestToken, /^alk_idt_[\w-]{40,}$/);
    assert.ok(!log.includes(requestToken));
    const replay = await fetch(`${t.service.url}/api/v1/agent/id-token?audience=x`, {
      headers: { authorization: `Bearer ${requestToken}` },
    });
    assert.equal(replay.status, 401);
    // Only the token path, only with the request token.
    assert.equal(field(log, "STATUS"), "200", log);
    assert.equal(field(log, "OTHER"), "404", log);
    assert.equal(field(log, "BAD"), "401", log);

    // The relying party: discovery from the issuer, then the key set it names.
    const issuer = `${t.service.url}/orgs/default`;
    const disc = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(disc.issuer, issuer);
    assert.equal(disc.jwks_uri, `${issuer}/.well-known/jwks.json`);
    assert.deepEqual(disc.id_token_signing_alg_values_supported, ["RS256"]);
    const jwks = createRemoteJWKSet(new URL(disc.jwks_uri));
    const idToken = field(log, "IDTOKEN");
    const { payload } = await jwtVerify(idToken, jwks, { issuer, audience: "sts.example.test" });
    const { rows } = await t.db.pool.query<{ id: string; organization_id: string }>(
      "SELECT id, organization_id FROM repositories WHERE name = 'acme/idt'",
    );
    const ids = rows[0]!;
    assert.equal(payload.sub, `repo:default@${ids.organization_id}/acme/idt@${ids.id}:ref:refs/heads/main`);
    assert.equal(payload.repository, "acme/idt");
    assert.equal(payload.repository_id, ids.id);
    assert.equal(payload.job, "cloud");
    assert.equal(payload.event_name, "push");
    assert.equal(payload.run_id, String(run.id));
    assert.equal(payload.trust_tier, "trusted");
    await assert.rejects(jwtVerify(idToken, jwks, { issuer, audience: "another" }), {
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
    await assert.rejects(
      jwtVerify(idToken, jwks, { issuer, currentDate: new Date((payload.exp! + 1) * 1000) }),
      { code: "ERR_JWT_EXPIRED" },
    );
    // The instance-level key set holds the organization's key too.
    const all = (await (await fetch(`${t.service.url}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    const { kid } = JSON.parse(Buffer.from(idToken.split(".")[0]!, "base64url").toString()) as {
      kid: string;
    };
    assert.ok(all.keys.some((k) => k.kid === kid));
    assert.equal((await fetch(`${t.service.url}/orgs/nope/.well-known/jwks.json`)).status, 404);

    // A job without the permission gets no variables.
    const plain = (await t.api("GET", `/api/v1/jobs/${job("plain").id}/logs`)).text;
    assert.equal(field(plain, "VARS"), "[none] [none]", plain);
  });
});
