// The client address behind a reverse proxy: X-Forwarded-For is believed only from the proxies
// `trustProxy` names, so a client cannot pick its own address to dodge the throttle, and the audit
// log records the real client.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadServerConfig } from "../../src/server/index.js";
import { startTestServer, type TestServer } from "./helpers.js";

async function failedFrom(s: TestServer, peer: string, forwarded: string): Promise<string | null> {
  const r = await s.app.inject({
    method: "GET",
    url: "/api/v1/runs",
    remoteAddress: peer,
    headers: { authorization: "Bearer alk_pat_nope", "x-forwarded-for": forwarded },
  });
  assert.equal(r.statusCode, 401);
  const { rows } = await s.db.pool.query(
    "SELECT client_address FROM audit_log WHERE action = 'auth.token_failed' ORDER BY seq DESC LIMIT 1",
  );
  return rows[0]?.client_address ?? null;
}

describe("behind a reverse proxy", () => {
  let trusting: TestServer;
  let plain: TestServer;
  before(async () => {
    trusting = await startTestServer({ trustProxy: ["10.0.0.0/8"] });
    plain = await startTestServer();
  });
  after(async () => {
    await trusting?.close();
    await plain?.close();
  });

  it("takes the client from X-Forwarded-For only when the peer is a trusted proxy", async () => {
    assert.equal(await failedFrom(trusting, "10.1.2.3", "203.0.113.5"), "203.0.113.5");
    assert.equal(await failedFrom(trusting, "198.51.100.7", "203.0.113.5"), "198.51.100.7");
    assert.equal(await failedFrom(plain, "10.1.2.3", "203.0.113.5"), "10.1.2.3");
  });

  it("a bad trustProxy entry stops start-up with one line naming it", () => {
    assert.throws(
      () => loadServerConfig({ env: { AIRLOCK_TRUST_PROXY: "10.0.0.0/8, not-an-ip" } }),
      /AIRLOCK_TRUST_PROXY: expected IP addresses or CIDR ranges/,
    );
    assert.deepEqual(loadServerConfig({ env: { AIRLOCK_TRUST_PROXY: "10.0.0.0/8,::1" } }).trustProxy, [
      "10.0.0.0/8",
      "::1",
    ]);
  });
});
