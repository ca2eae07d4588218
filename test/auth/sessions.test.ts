// Browser sessions on a real PostgreSQL: only digests stored, idle and absolute timeouts (with an
// injected clock, never a real wait), CSRF token per session, rotation (session fixation), log out
// and log out everywhere, and disabled users.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ABSOLUTE_MS,
  checkCsrf,
  createSession,
  endAllSessions,
  endSession,
  IDLE_MS,
  lookupSession,
  rotateSession,
} from "../../src/auth/sessions.js";
import { createUser, setUserDisabled } from "../../src/auth/users.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let alice: number;
let bob: number;
before(async () => {
  db = await createTestDatabase();
  alice = (await createUser(db.pool, { name: "alice" })).id;
  bob = (await createUser(db.pool, { name: "bob" })).id;
});
after(async () => {
  await db?.drop();
});

const at = (ms: number): Date => new Date(Date.now() + ms);

describe("sessions", () => {
  it("stores only digests and finds the session by its cookie", async () => {
    const s = await createSession(db.pool, alice, { complete: true, clientAddress: "192.0.2.9" });
    const { rows } = await db.pool.query<Record<string, unknown>>("SELECT * FROM sessions");
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(s.id) && !dump.includes(s.csrfToken), "no cookie or CSRF token in the table");
    const found = await lookupSession(db.pool, s.id);
    assert.equal(found?.userId, alice);
    assert.equal(found?.complete, true);
    for (const bad of [undefined, "", "x", s.id.slice(1), `${s.id}x`, "' OR 1=1 --"])
      assert.equal(await lookupSession(db.pool, bad), undefined, String(bad));
  });

  it("ends after the idle timeout and after the absolute timeout", async () => {
    const s = await createSession(db.pool, alice, { complete: true });
    assert.ok(await lookupSession(db.pool, s.id, at(IDLE_MS - 60_000)), "used within the idle time");
    // That use moved last_seen_at: idle counts from it.
    assert.ok(await lookupSession(db.pool, s.id, at(2 * IDLE_MS - 120_000)));
    assert.equal(await lookupSession(db.pool, s.id, at(4 * IDLE_MS)), undefined, "idle too long");
    const t = await createSession(db.pool, alice, { complete: true });
    // Used every few hours, it still ends at the absolute time.
    for (let h = IDLE_MS / 2; h < ABSOLUTE_MS; h += IDLE_MS / 2)
      assert.ok(await lookupSession(db.pool, t.id, at(h)), `at ${h}`);
    assert.equal(await lookupSession(db.pool, t.id, at(ABSOLUTE_MS + 1000)), undefined);
  });

  it("checks the CSRF token of its own session only", async () => {
    const s = await createSession(db.pool, alice, { complete: true });
    const other = await createSession(db.pool, bob, { complete: true });
    const found = (await lookupSession(db.pool, s.id))!;
    assert.equal(checkCsrf(found, s.csrfToken), true);
    assert.equal(checkCsrf(found, other.csrfToken), false);
    assert.equal(checkCsrf(found, undefined), false);
    assert.equal(checkCsrf(found, s.id), false, "the cookie is not the CSRF token");
  });

  it("rotation gives a new id and CSRF token; the old id (a planted one) stops working", async () => {
    const planted = await createSession(db.pool, alice, { complete: false });
    const s = (await lookupSession(db.pool, planted.id))!;
    assert.equal(s.complete, false);
    const fresh = (await rotateSession(db.pool, s, { complete: true }))!;
    assert.notEqual(fresh.id, planted.id);
    assert.equal(await lookupSession(db.pool, planted.id), undefined);
    const now = (await lookupSession(db.pool, fresh.id))!;
    assert.equal(now.complete, true);
    assert.equal(checkCsrf(now, planted.csrfToken), false);
    assert.equal(checkCsrf(now, fresh.csrfToken), true);
  });

  it("log out ends one session; log out everywhere and disabling end all", async () => {
    const a1 = await createSession(db.pool, alice, { complete: true });
    const a2 = await createSession(db.pool, alice, { complete: true });
    const b1 = await createSession(db.pool, bob, { complete: true });
    await endSession(db.pool, (await lookupSession(db.pool, a1.id))!);
    assert.equal(await lookupSession(db.pool, a1.id), undefined);
    assert.ok(await lookupSession(db.pool, a2.id));
    await endAllSessions(db.pool, alice);
    assert.equal(await lookupSession(db.pool, a2.id), undefined);
    assert.ok(await lookupSession(db.pool, b1.id), "another user's session lives on");
    const again = await createSession(db.pool, alice, { complete: true });
    assert.ok(await lookupSession(db.pool, again.id), "a login right after works");
    await setUserDisabled(db.pool, bob, true);
    assert.equal(await lookupSession(db.pool, b1.id), undefined);
    await setUserDisabled(db.pool, bob, false);
    assert.equal(await lookupSession(db.pool, b1.id), undefined, "enabling again does not revive it");
  });
});
