// Security headers on every kind of response (success, error, unauthenticated, unknown route,
// health), Cache-Control no-store on the API, and CORS closed: no Access-Control-* header for a
// request from another origin, and no preflight route.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CSP } from "../../src/server/security-headers.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.close();
});

const EVIL = "https://evil.example";

describe("security headers and CORS", () => {
  it("every response carries the security headers; API responses are not cached", async () => {
    const cases = [
      { method: "GET" as const, url: "/healthz", headers: {} },
      { method: "GET" as const, url: "/api/v1/repositories", headers: s.auth },
      { method: "GET" as const, url: "/api/v1/repositories", headers: {} }, // 401
      { method: "GET" as const, url: "/api/v1/runs/999999", headers: s.auth }, // 404
      { method: "GET" as const, url: "/no/such/route", headers: {} },
      {
        method: "POST" as const,
        url: "/api/v1/repositories",
        headers: s.auth,
        payload: { name: "bad name with spaces", cloneUrl: "x" },
      }, // 400
    ];
    const statuses: number[] = [];
    for (const c of cases) {
      const res = await s.app.inject({ ...c, headers: { ...c.headers, origin: EVIL } });
      statuses.push(res.statusCode);
      const h = res.headers;
      assert.equal(h["content-security-policy"], CSP, c.url);
      assert.match(CSP, /frame-ancestors 'none'/);
      assert.equal(h["x-frame-options"], "DENY", c.url);
      assert.equal(h["x-content-type-options"], "nosniff", c.url);
      assert.equal(h["referrer-policy"], "no-referrer", c.url);
      assert.equal(h["cross-origin-resource-policy"], "same-origin", c.url);
      if (c.url.startsWith("/api/")) assert.equal(h["cache-control"], "no-store", c.url);
      for (const name of Object.keys(h)) assert.ok(!name.startsWith("access-control-"), `${c.url}: ${name}`);
    }
    assert.deepEqual(statuses, [200, 200, 401, 404, 404, 400]);
  });

  it("a cross-origin preflight finds nothing to allow", async () => {
    const res = await s.app.inject({
      method: "OPTIONS",
      url: "/api/v1/repositories",
      headers: {
        origin: EVIL,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(res.statusCode, 404);
    for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith("access-control-"), name);
  });
});
