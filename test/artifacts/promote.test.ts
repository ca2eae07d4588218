// The promotion gate and quarantine (src/artifacts/promote.ts, policy.ts): POST
// /runs/:id/artifacts/:artifact/promote marks an artifact promoted only when the repository's
// policy allows its status and its run's trust tier (409 ARTIFACT_NOT_PROMOTABLE otherwise, a
// `mismatch` never), both outcomes in the audit log; the policy is set by a server administrator
// through PUT /repositories/:id/artifact-policy; a `mismatch` artifact is neither listed nor
// downloadable by jobs. Real PostgreSQL, a real server; statuses are set on the rows as the
// attestation (tested elsewhere) would set them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  finalize,
  ids,
  rawUpload,
  runningAttempt,
  startArtifactServer,
  twirp,
  type ArtifactServer,
  type Attempt,
  adminToken,
} from "./helpers.js";

let s: ArtifactServer;
let admin: string;
before(async () => {
  s = await startArtifactServer();
  admin = await adminToken(s);
});
after(async () => {
  await s?.close();
});

async function api(method: "GET" | "POST" | "PUT", url: string, payload?: unknown) {
  const r = await s.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${admin}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return {
    status: r.statusCode,
    body: JSON.parse(r.body) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

/** A finalized artifact with the given status, in a run of the given tier. */
async function artifact(
  status: string,
  tier: "trusted" | "untrusted",
  name = "dist",
): Promise<{ a: Attempt; id: number; repo: number }> {
  const a = await runningAttempt(s, { tier });
  const bytes = Buffer.from(`${status} ${tier} ${Math.random()}\n`);
  const { artifactId } = await rawUpload(s, a, name, bytes);
  assert.equal((await finalize(s, a, name, bytes)).status, 200);
  await s.db.pool.query(`UPDATE artifacts SET status = $2 WHERE id = $1`, [artifactId, status]);
  const repo = Number(
    (await s.db.pool.query(`SELECT repository_id FROM runs WHERE id = $1`, [a.runId])).rows[0]!.repository_id,
  );
  return { a, id: artifactId, repo };
}

const audit = async (action: string, id: number) =>
  (
    await s.db.pool.query(
      `SELECT actor_display, details FROM audit_log WHERE action = $1 AND object_id = $2`,
      [action, String(id)],
    )
  ).rows as Array<{ actor_display: string; details: Record<string, unknown> }>;
const promotedAt = async (id: number): Promise<unknown> =>
  (await s.db.pool.query(`SELECT promoted_at FROM artifacts WHERE id = $1`, [id])).rows[0]!.promoted_at;

describe("the promotion gate", () => {
  it("promotes a trusted artifact of a trusted run, records who, shows it in the list, audits it", async () => {
    const { a, id } = await artifact("trusted", "trusted");
    const r = await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.promotedBy, "ops");
    assert.equal(typeof r.body.promotedAt, "string");
    const list = await api("GET", `/runs/${a.runId}/artifacts`);
    assert.equal((list.body as unknown as Array<Record<string, unknown>>)[0]!.promotedBy, "ops");
    const entries = await audit("artifact.promoted", id);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.details.status, "trusted");
    // Again: nothing changes, and it says so in the log.
    assert.equal((await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`)).status, 200);
    assert.equal((await audit("artifact.promoted", id)).length, 1);
    assert.equal((await audit("artifact.promote_repeated", id)).length, 1);
  });

  it("refuses an unverified artifact under the default policy, and allows it once the policy says so", async () => {
    const { a, id, repo } = await artifact("unverified", "trusted");
    const r = await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`);
    assert.equal(r.status, 409);
    assert.equal(r.body.error!.code, "ARTIFACT_NOT_PROMOTABLE");
    assert.match(
      r.body.error!.message,
      /is unverified; the repository's policy promotes only corroborated or trusted/,
    );
    assert.equal(await promotedAt(id), null);
    const refused = await audit("artifact.promotion_refused", id);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.details.status, "unverified");

    const set = await api("PUT", `/repositories/${repo}/artifact-policy`, {
      promote: { requireStatus: ["corroborated", "trusted", "unverified"] },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.promote, {
      requireStatus: ["corroborated", "trusted", "unverified"],
      allowUntrustedRuns: false,
    });
    assert.equal(
      (await s.db.pool.query(`SELECT 1 FROM audit_log WHERE action = 'repository.artifact_policy_changed'`))
        .rowCount,
      1,
    );
    assert.equal((await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`)).status, 200);
  });

  it("refuses an artifact of an untrusted run, even corroborated, unless the policy allows untrusted runs", async () => {
    const { a, id, repo } = await artifact("corroborated", "untrusted");
    const r = await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`);
    assert.equal(r.status, 409);
    assert.match(r.body.error!.message, /untrusted run/);
    assert.equal(await promotedAt(id), null);
    assert.equal(
      (await api("PUT", `/repositories/${repo}/artifact-policy`, { promote: { allowUntrustedRuns: true } }))
        .status,
      200,
    );
    assert.equal((await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`)).status, 200);
  });

  it("never promotes a mismatch, whatever the policy; the policy cannot name mismatch", async () => {
    const { a, id, repo } = await artifact("mismatch", "trusted");
    const bad = await api("PUT", `/repositories/${repo}/artifact-policy`, {
      promote: { requireStatus: ["mismatch"] },
    });
    assert.equal(bad.status, 400);
    await api("PUT", `/repositories/${repo}/artifact-policy`, {
      promote: { requireStatus: ["corroborated", "trusted", "unverified"], allowUntrustedRuns: true },
    });
    const r = await api("POST", `/runs/${a.runId}/artifacts/${id}/promote`);
    assert.equal(r.status, 409);
    assert.match(r.body.error!.message, /quarantined/);
    assert.equal(await promotedAt(id), null);
    assert.equal((await audit("artifact.promotion_refused", id)).length, 1);
  });

  it("answers 404 for an artifact of another run", async () => {
    const { id } = await artifact("trusted", "trusted");
    const other = await runningAttempt(s);
    assert.equal((await api("POST", `/runs/${other.runId}/artifacts/${id}/promote`)).status, 404);
  });
});

describe("quarantine", () => {
  it("hides a mismatch artifact from other jobs' list and download, even through a URL signed before", async () => {
    const { a, id } = await artifact("trusted", "trusted", "out");
    const b = await runningAttempt(s, { runId: a.runId });
    const signed = await twirp(s, b.token, "GetSignedArtifactURL", { ...ids(b), name: "out" });
    assert.equal(signed.status, 200);
    const url = String(signed.body.signed_url);
    assert.equal((await fetch(url)).status, 200);

    await s.db.pool.query(`UPDATE artifacts SET status = 'mismatch' WHERE id = $1`, [id]);
    const listed = await twirp(s, b.token, "ListArtifacts", { ...ids(b) });
    assert.deepEqual(listed.body.artifacts ?? [], []);
    const byId = await twirp(s, b.token, "ListArtifacts", { ...ids(b), id_filter: String(id) });
    assert.deepEqual(byId.body.artifacts ?? [], []);
    assert.equal((await twirp(s, b.token, "GetSignedArtifactURL", { ...ids(b), name: "out" })).status, 404);
    const res = await fetch(url);
    assert.equal(res.status, 404);
  });
});
