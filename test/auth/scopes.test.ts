// Scope lists: parsing from user input, refusal of unknown scopes in one line, implication.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { hasScope, parseScopes, SCOPES } from "../../src/auth/index.js";

void test("parseScopes accepts arrays and comma/space lists, dedupes and orders them", () => {
  assert.deepEqual(parseScopes("runs:write, runs:read repos:read,runs:read"), [
    "runs:read",
    "runs:write",
    "repos:read",
  ]);
  assert.deepEqual(parseScopes(["admin"]), ["admin"]);
  assert.deepEqual(parseScopes([...SCOPES].reverse()), [...SCOPES]);
});

void test("unknown scopes are refused with SCOPE_INVALID in one line naming each of them", () => {
  assert.throws(
    () => parseScopes("runs:read, runs:delete, Admin"),
    (e) => {
      assert.ok(isAirlockError(e, "SCOPE_INVALID"));
      assert.ok(!e.message.includes("\n"));
      assert.ok(e.message.includes('"runs:delete"') && e.message.includes('"Admin"'));
      assert.deepEqual(e.details, { unknown: ["runs:delete", "Admin"] });
      return true;
    },
  );
  for (const empty of ["", " , ", []])
    assert.throws(
      () => parseScopes(empty),
      (e) => isAirlockError(e, "SCOPE_INVALID"),
    );
  // A flood of unknown scopes still makes one short line.
  assert.throws(
    () => parseScopes(Array.from({ length: 1000 }, (_, i) => `bogus${i}:${"x".repeat(500)}`)),
    (e) => isAirlockError(e, "SCOPE_INVALID") && e.message.length < 600 && !e.message.includes("\n"),
  );
});

void test("a scope implies the weaker ones of its area; admin implies all; nothing else is implied", () => {
  assert.equal(hasScope(["runs:write"], "runs:read"), true);
  assert.equal(hasScope(["runs:read"], "runs:write"), false);
  assert.equal(hasScope(["repos:admin"], "repos:read"), true);
  assert.equal(hasScope(["nodes:admin"], "runs:read"), false);
  assert.equal(hasScope(["secrets:write"], "audit:read"), false);
  assert.equal(hasScope([], "runs:read"), false);
  for (const s of SCOPES) assert.equal(hasScope(["admin"], s), true, s);
  for (const s of SCOPES) if (s !== "admin") assert.equal(hasScope([s], "admin"), false, s);
});
