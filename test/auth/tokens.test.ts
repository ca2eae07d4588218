// API token format: prefix, public id, secret, checksum; strict parsing that never throws; secret
// verification in constant time.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { mock, test } from "node:test";
import {
  newApiToken,
  newNodeToken,
  parseApiToken,
  parseNodeToken,
  verifyTokenSecret,
} from "../../src/auth/index.js";

void test("tokens have a scanner-friendly prefix, a public id, a 256-bit secret and a checksum", () => {
  const pat = newApiToken("personal");
  const svc = newApiToken("service");
  assert.match(pat.token, /^alk_pat_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
  assert.match(svc.token, /^alk_svc_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
  assert.equal(pat.token.slice(8, 20), pat.publicId);
  assert.match(pat.secretHash, /^[0-9a-f]{64}$/);
  assert.ok(!pat.token.includes(pat.secretHash));
  assert.notEqual(newApiToken("personal").publicId, pat.publicId);
});

void test("a token parses back into its parts, and its secret verifies against the stored hash", () => {
  for (const kind of ["personal", "service"] as const) {
    const t = newApiToken(kind);
    const p = parseApiToken(t.token);
    assert.ok(p);
    assert.equal(p.kind, kind);
    assert.equal(p.publicId, t.publicId);
    assert.equal(p.secret.length, 43);
    assert.ok(t.token.includes(`_${p.secret}`));
    assert.equal(verifyTokenSecret(t.secretHash, p.secret), true);
    assert.equal(verifyTokenSecret(newApiToken(kind).secretHash, p.secret), false);
  }
});

void test("the checksum catches a one-character change", () => {
  const t = newApiToken("personal").token;
  let refused = 0;
  for (let i = 8; i < t.length; i++) {
    if (t[i] === "_") continue;
    const changed = t.slice(0, i) + (t[i] === "a" ? "b" : "a") + t.slice(i + 1);
    if (parseApiToken(changed) === undefined) refused++;
  }
  assert.equal(refused, t.length - 8 - 1);
  // The kind is covered too: a personal token relabelled as a service token does not parse.
  assert.equal(parseApiToken(t.replace("alk_pat_", "alk_svc_")), undefined);
});

void test("garbage never throws and never parses", () => {
  const t = newApiToken("service").token;
  const garbage: unknown[] = [
    undefined,
    null,
    42,
    {},
    [],
    "",
    "alk_",
    "alk_pat_",
    "alk_ses_" + t.slice(8),
    "ALK_SVC_" + t.slice(8),
    t + "x",
    t.slice(0, -1),
    " " + t.slice(1),
    t.replace(/_([^_]*)$/, "-$1"),
    t.slice(0, 20) + "ä" + t.slice(21),
    t.slice(0, 20) + "\n" + t.slice(21),
    "alk_pat_" + "_".repeat(62),
    "x".repeat(10_000_000),
    "\u0000".repeat(69),
  ];
  for (const g of garbage) assert.equal(parseApiToken(g), undefined);
  for (let i = 0; i < 2000; i++) {
    const s = crypto.randomBytes(69).toString("latin1");
    assert.equal(parseApiToken(s), undefined);
  }
});

void test("verifyTokenSecret compares digests with crypto.timingSafeEqual; malformed inputs are just false", (t) => {
  const tok = newApiToken("personal");
  const secret = parseApiToken(tok.token)!.secret;
  const spy = mock.method(crypto, "timingSafeEqual");
  t.after(() => spy.mock.restore());
  assert.equal(verifyTokenSecret(tok.secretHash, secret), true);
  assert.equal(
    verifyTokenSecret(
      tok.secretHash,
      secret.replace(/.$/, (c) => (c === "a" ? "b" : "a")),
    ),
    false,
  );
  assert.equal(spy.mock.callCount(), 2);
  assert.equal(verifyTokenSecret("not hex", secret), false);
  assert.equal(verifyTokenSecret(tok.secretHash, ""), false);
  assert.equal(verifyTokenSecret(tok.secretHash, "x".repeat(1_000_000)), false);
});

void test("node tokens have the same shape: alk_reg_ and alk_node_, parsed only as their own kind", () => {
  const reg = newNodeToken("registration");
  const node = newNodeToken("node");
  assert.match(reg.token, /^alk_reg_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
  assert.match(node.token, /^alk_node_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
  const p = parseNodeToken(node.token, "node");
  assert.equal(p?.publicId, node.publicId);
  assert.equal(verifyTokenSecret(node.secretHash, p?.secret ?? ""), true);
  assert.equal(parseNodeToken(node.token, "registration"), undefined);
  assert.equal(parseNodeToken(reg.token, "node"), undefined);
  assert.equal(parseApiToken(node.token), undefined, "never an API token");
  assert.equal(parseNodeToken(newApiToken("personal").token, "node"), undefined);
  assert.equal(parseNodeToken(node.token.replace("alk_node_", "alk_reg_"), "registration"), undefined);
  // A rotated credential keeps the node's public id, with a new secret.
  const next = newNodeToken("node", node.publicId);
  assert.equal(next.publicId, node.publicId);
  assert.notEqual(next.secretHash, node.secretHash);
  for (const g of [undefined, "", node.token + "x", node.token.slice(0, -1), "x".repeat(100_000)])
    assert.equal(parseNodeToken(g, "node"), undefined);
});
