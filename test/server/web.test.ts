// The web UI served by the orchestrator (src/server/web.ts): index.html for every page path, the
// hashed assets cached for good, the strict CSP on the page, browsers opening an API link sent to
// its page while programs keep the API, and one clear line when the UI was not built.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let bare: TestServer;
let root: string;
const INDEX = '<!doctype html><script type="module" src="/assets/index-abc.js"></script>';

before(async () => {
  root = mkdtempSync(join(tmpdir(), "airlock-web-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), INDEX);
  writeFileSync(join(root, "assets", "index-abc.js"), "console.log(1);\n");
  writeFileSync(join(root, "secret.txt"), "not an asset\n");
  s = await startTestServer({}, { webRoot: root });
  bare = await startTestServer({}, { webRoot: join(root, "missing") });
});

after(async () => {
  await s?.close();
  await bare?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("web UI", () => {
  it("answers every page path with index.html, revalidated, under the strict CSP", async () => {
    for (const url of [
      "/",
      "/runs",
      "/runs/12?attempt=2",
      "/jobs/3/logs",
      "/repos/4/runs",
      "/admin",
      "/admin/users",
    ]) {
      const res = await s.app.inject({ method: "GET", url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX, url);
      assert.match(String(res.headers["content-type"]), /^text\/html/);
      assert.equal(res.headers["cache-control"], "no-cache");
      const csp = String(res.headers["content-security-policy"]);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    }
  });

  it("serves the hashed assets for a year, and nothing outside assets/", async () => {
    const js = await s.app.inject({ method: "GET", url: "/assets/index-abc.js" });
    assert.equal(js.statusCode, 200);
    assert.equal(js.body, "console.log(1);\n");
    assert.match(String(js.headers["cache-control"]), /max-age=31536000.*immutable/);
    for (const url of [
      "/assets/../secret.txt",
      "/assets/%2e%2e/secret.txt",
      "/secret.txt",
      "/assets/nope.js",
    ]) {
      const res = await s.app.inject({ method: "GET", url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /not an asset/);
    }
  });

  it("sends a browser opening an API link to its page; programs still get the API", async () => {
    const nav = { "sec-fetch-dest": "document", accept: "text/html,application/xhtml+xml" };
    for (const [url, page] of [
      ["/api/v1/runs/7", "/runs/7"],
      ["/api/v1/jobs/8", "/jobs/8"],
      ["/api/v1/jobs/8/logs", "/jobs/8/logs"],
    ] as const) {
      const res = await s.app.inject({ method: "GET", url, headers: nav });
      assert.equal(res.statusCode, 303, url);
      assert.equal(res.headers.location, page);
    }
    // A download link, fetch() from the page, and curl are the API's.
    const download = await s.app.inject({
      method: "GET",
      url: "/api/v1/jobs/8/logs?download=1",
      headers: nav,
    });
    assert.equal(download.statusCode, 401);
    const fetched = await s.app.inject({
      method: "GET",
      url: "/api/v1/runs/7",
      headers: { "sec-fetch-dest": "empty", accept: "application/json" },
    });
    assert.equal(fetched.statusCode, 401);
    assert.equal((JSON.parse(fetched.body) as { error: { code: string } }).error.code, "UNAUTHORIZED");
    const curl = await s.app.inject({ method: "GET", url: "/api/v1/runs/7", headers: { accept: "*/*" } });
    assert.equal(curl.statusCode, 401);
  });

  it("says in one line that the UI is not built when dist/web is missing", async () => {
    const res = await bare.app.inject({ method: "GET", url: "/runs/1" });
    assert.equal(res.statusCode, 503);
    assert.equal(res.body.trim().split("\n").length, 1);
    assert.match(res.body, /npm run build/);
  });
});
