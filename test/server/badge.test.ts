// Status badges: the newest run's status for a public repository or a caller who may read it; for
// anyone else a private repository answers byte for byte as one that does not exist; hostile
// workflow and branch names stay text in the SVG; the headers forbid scripts and caching by others.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiToken, createUser, setGrant } from "../../src/auth/index.js";
import { badgeSvg, BADGE_CSP, xmlEscape } from "../../src/server/badge.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let repoId = 0;
let readerToken = "";
let strangerToken = "";

async function badge(url: string, token?: string) {
  const res = await s.app.inject({
    method: "GET",
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const { date: _date, ...headers } = res.headers;
  return { status: res.statusCode, body: res.body, headers };
}

async function addRun(
  repo: number,
  f: { ref: string; file: string; name: string; state: string; conclusion?: string },
): Promise<number> {
  const { rows } = await s.db.pool.query<{ id: string }>(
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, actor, state, conclusion, workflow_file, workflow_name)
     VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM runs WHERE repository_id = $1), 'push', $2, $3,
             'webhook', 'alice', $4, $5, $6, $7)
     RETURNING id`,
    [repo, f.ref, "d".repeat(40), f.state, f.conclusion ?? null, f.file, f.name],
  );
  return Number(rows[0]!.id);
}

before(async () => {
  s = await startTestServer();
  const r = await s.app.inject({
    method: "POST",
    url: "/api/v1/repositories",
    headers: s.auth,
    payload: { name: "acme/app", cloneUrl: "https://git.example.test/acme/app.git" },
  });
  repoId = (JSON.parse(r.body) as { id: number }).id;
  const ci = { file: ".github/workflows/ci.yml", name: "CI" };
  await addRun(repoId, { ...ci, ref: "refs/heads/main", state: "completed", conclusion: "failure" });
  await addRun(repoId, { ...ci, ref: "refs/heads/main", state: "completed", conclusion: "success" });
  await addRun(repoId, { ...ci, ref: "refs/heads/main", state: "queued" }); // not counted
  await addRun(repoId, { ...ci, ref: "refs/heads/dev", state: "running" });
  await addRun(repoId, { ...ci, ref: "refs/heads/old", state: "completed", conclusion: "cancelled" });
  await addRun(repoId, {
    file: ".github/workflows/release.yaml",
    name: "Release <script>alert(1)",
    ref: "refs/heads/main",
    state: "completed",
    conclusion: "failure",
  });
  const pool = s.db.pool;
  const org = Number(
    (await pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'")).rows[0]!.id,
  );
  const reader = await createUser(pool, { name: "reader" });
  await setGrant(pool, { userId: reader.id, organizationId: org, repositoryId: repoId, role: "viewer" });
  readerToken = (
    await createApiToken(pool, { kind: "personal", name: "t", scopes: ["repos:read"], userId: reader.id })
  ).token;
  const stranger = await createUser(pool, { name: "stranger" });
  strangerToken = (
    await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: stranger.id })
  ).token;
});
after(async () => {
  await s?.close();
});

describe("status badges", () => {
  it("gives anyone without repository.read on a private repository exactly the badge of a missing one", async () => {
    const missing = await badge("/badge/acme/nope/ci.svg");
    assert.equal(missing.status, 200);
    assert.match(missing.body, /no status/);
    for (const [url, token] of [
      ["/badge/acme/app/ci.svg", undefined],
      ["/badge/acme/app/ci.svg", "alk_pat_not-a-real-token"],
    ] as const) {
      const hidden = await badge(url, token);
      assert.equal(hidden.status, missing.status);
      assert.equal(hidden.body, missing.body, "byte-identical");
      assert.deepEqual(hidden.headers, missing.headers);
    }
    // An authenticated stranger gets the same bytes (only the cache is private: it is theirs).
    const a = await badge("/badge/acme/app/ci.svg", strangerToken);
    const b = await badge("/badge/acme/nope/ci.svg", strangerToken);
    assert.equal(a.body, missing.body);
    assert.deepEqual(a.headers, b.headers);
    assert.equal(a.headers["cache-control"], "private, no-cache");
    assert.equal(missing.headers["cache-control"], "no-cache");
  });

  it("shows the real status to a reader, and to anyone once the repository is public", async () => {
    const main = await badge("/badge/acme/app/ci.svg", readerToken);
    assert.match(main.body, />passing</);
    assert.match((await badge("/badge/acme/app/ci.svg?branch=dev", readerToken)).body, />running</);
    assert.match((await badge("/badge/acme/app/CI.svg?branch=old", readerToken)).body, />cancelled</);
    assert.match((await badge("/badge/acme/app/ci.yml.svg?branch=none", readerToken)).body, />no status</);
    assert.match((await badge("/badge/acme/app/release.svg", readerToken)).body, />failing</);
    assert.match((await badge("/badge/acme/app/ci.svg")).body, />no status</);
    const made = await s.app.inject({
      method: "PATCH",
      url: `/api/v1/repositories/${repoId}`,
      headers: s.auth,
      payload: { visibility: "public" },
    });
    assert.equal(made.statusCode, 200, made.body);
    try {
      const open = await badge("/badge/acme/app/ci.svg");
      assert.match(open.body, />passing</);
      assert.equal(open.headers["cache-control"], "no-cache");
      assert.match((await badge("/badge/acme/app/ci.svg?org=default")).body, />passing</);
      assert.match((await badge("/badge/acme/app/ci.svg?org=other")).body, />no status</);
    } finally {
      await s.app.inject({
        method: "PATCH",
        url: `/api/v1/repositories/${repoId}`,
        headers: s.auth,
        payload: { visibility: "private" },
      });
    }
  });

  it("is an SVG with a script-free CSP, embeddable, never cached by others", async () => {
    const r = await badge("/badge/acme/app/ci.svg");
    assert.equal(r.headers["content-type"], "image/svg+xml; charset=utf-8");
    assert.equal(r.headers["content-security-policy"], BADGE_CSP);
    assert.doesNotMatch(BADGE_CSP, /script-src|unsafe/);
    assert.match(BADGE_CSP, /default-src 'none'/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["cross-origin-resource-policy"], "cross-origin");
    assert.match(r.body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // The API keeps its own stricter defaults.
    const api = await s.app.inject({ method: "GET", url: "/api/v1/openapi.json" });
    assert.equal(api.headers["cross-origin-resource-policy"], "same-origin");
    assert.notEqual(api.headers["content-security-policy"], BADGE_CSP);
    assert.equal((await badge("/badge/acme/app/ci.png")).status, 404);
    assert.equal((await badge("/badge/ci.svg")).status, 404);
  });

  it("keeps hostile workflow and branch names as text", async () => {
    const evil = "</text><script>alert(1)</script><text>";
    // A path segment cannot hold a "/" (%2F is decoded before routing): no slash in it.
    const evilSegment = "<text><script>alert(1)&amp;";
    for (const url of [
      `/badge/acme/app/${encodeURIComponent(evilSegment)}.svg`,
      `/badge/acme/app/${encodeURIComponent(evil)}.svg`,
      `/badge/acme/app/ci.svg?branch=${encodeURIComponent(evil)}`,
      `/badge/acme/app/${encodeURIComponent('x" onload="alert(1)')}.svg`,
    ]) {
      const r = await badge(url, readerToken);
      assert.equal(r.status, 200, url);
      assert.doesNotMatch(r.body, /<script|onload="/i, url);
      assert.equal((r.body.match(/<text /g) ?? []).length, 2, url);
    }
    const shown = await badge(`/badge/acme/app/${encodeURIComponent(evilSegment)}.svg`);
    assert.match(shown.body, />&lt;text&gt;&lt;script&gt;alert\(1\)&amp;amp;<\/text>/);
    // The run's own (hostile) workflow name is never printed: the label is what the URL asked for.
    const release = await badge(
      `/badge/acme/app/${encodeURIComponent("Release <script>alert(1)")}.svg`,
      readerToken,
    );
    assert.match(release.body, />failing</);
    assert.doesNotMatch(release.body, /<script/);
  });

  it("escapes markup and replaces characters XML forbids", () => {
    assert.equal(xmlEscape(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert.equal(xmlEscape("a\u0000b\u001bc\ud800d"), "a\ufffdb\ufffdc\ufffdd");
    assert.equal(xmlEscape("tab\tnew\nline é 😀"), "tab\tnew\nline é 😀");
    const long = badgeSvg("w".repeat(500), "passing");
    assert.ok(long.length < 2000, "a long name is cut");
  });
});
