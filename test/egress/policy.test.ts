// The allow-list grammar and matching, and the address checks, as tables.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  forbiddenReason,
  isAllowed,
  parseAllowEntry,
  parseAllowList,
  parseCidr,
  parseDenyList,
  parseTarget,
  unionAllowLists,
} from "../../src/egress/index.js";

void test("allow entries: accepted forms, normalised", () => {
  const ok: Array<[string, string]> = [
    ["example.org:443", "name"],
    ["Example.ORG.:443", "name"],
    ["*.example.org:443", "suffix"],
    ["198.51.100.7:80", "ip"],
    ["[2001:db8::7]:443", "ip"],
    ["a_b.example.org:22", "name"],
  ];
  for (const [e, kind] of ok) {
    const r = parseAllowEntry(e);
    assert.equal(typeof r === "string" ? r : r.kind, kind, e);
  }
  const { list } = parseAllowList(["Example.ORG.:443", "example.org:443", "*.Example.org:443"]);
  assert.deepEqual(list.entries, ["example.org:443", "*.example.org:443"]);
});

void test("allow entries: refused forms, every problem collected", () => {
  const bad = [
    "example.org",
    "example.org:0",
    "example.org:65536",
    "example.org:http",
    "*:443",
    "*.org:443",
    "*example.org:443",
    "exa mple.org:443",
    "-bad.example.org:443",
    "2001:db8::7:443",
    "127.0.0.1:80",
    "10.1.2.3:443",
    "169.254.169.254:80",
    "[::1]:80",
    "[fe80::1%eth0]:80",
    "1.2.3.4.5:80",
    "2130706433:80",
    "0x7f.1:80",
    "",
    "x".repeat(300) + ":80",
  ];
  for (const e of bad) assert.equal(typeof parseAllowEntry(e), "string", e);
  const { list, problems } = parseAllowList(["ok.example:443", ...bad]);
  assert.equal(problems.length, bad.length);
  assert.deepEqual(list.entries, ["ok.example:443"]);
  assert.ok(parseAllowList(Array.from({ length: 300 }, (_, i) => `h${i}.example:443`)).problems.length > 0);
});

void test("matching: exact names, wildcards below a domain only, ports, IP literals", () => {
  const { list } = parseAllowList([
    "example.org:443",
    "*.pkg.example.net:443",
    "198.51.100.7:80",
    "[2001:db8::7]:443",
  ]);
  const t = (host: string, port: number) => {
    const target = parseTarget(host, port);
    assert.ok(target, host);
    return isAllowed(list, target);
  };
  const table: Array<[string, number, boolean]> = [
    ["example.org", 443, true],
    ["EXAMPLE.org.", 443, true],
    ["example.org", 80, false],
    ["www.example.org", 443, false],
    ["evilexample.org", 443, false],
    ["a.pkg.example.net", 443, true],
    ["a.b.pkg.example.net", 443, true],
    ["pkg.example.net", 443, false],
    ["xpkg.example.net", 443, false],
    ["198.51.100.7", 80, true],
    ["198.51.100.7", 443, false],
    ["198.51.100.8", 80, false],
    ["[2001:db8::7]", 443, true],
    ["2001:db8:0:0:0:0:0:7", 443, true],
    ["2001:db8::8", 443, false],
  ];
  for (const [host, port, want] of table) assert.equal(t(host, port), want, `${host}:${port}`);
  assert.equal(parseTarget("exa mple.org", 443), undefined);
  assert.equal(parseTarget("example.org", 0), undefined);
  assert.equal(parseTarget("[example.org]", 443), undefined);
  const empty = parseAllowList([]).list;
  assert.equal(isAllowed(empty, parseTarget("example.org", 443)!), false);
});

void test("union of node and repository lists", () => {
  const a = parseAllowList(["a.example:443", "b.example:443"]).list;
  const b = parseAllowList(["b.example:443", "c.example:80"]).list;
  assert.deepEqual(unionAllowLists(a, b).entries, ["a.example:443", "b.example:443", "c.example:80"]);
});

void test("address checks: every refused range, and public addresses pass", () => {
  const refused: Array<[string, RegExp]> = [
    ["127.0.0.1", /loopback/],
    ["127.255.1.2", /loopback/],
    ["10.0.0.1", /private/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.1.1", /private/],
    ["100.64.0.1", /CGNAT/],
    ["100.127.255.254", /CGNAT/],
    ["169.254.169.254", /link-local/],
    ["0.0.0.0", /unspecified/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["fe80::1", /link-local/],
    ["febf::1", /link-local/],
    ["fc00::1", /ULA/],
    ["fd12:3456::1", /ULA/],
    ["ff02::1", /multicast/],
    ["::ffff:127.0.0.1", /loopback/],
    ["::ffff:7f00:1", /loopback/],
    ["::ffff:169.254.169.254", /link-local/],
    ["::ffff:10.1.1.1", /private/],
    ["64:ff9b::a9fe:a9fe", /link-local/],
    ["2002:7f00:1::1", /loopback/],
    ["::127.0.0.1", /reserved/],
    ["not-an-ip", /not a valid/],
    ["fe80::1%eth0", /not a valid/],
  ];
  for (const [ip, why] of refused) assert.match(forbiddenReason(ip) ?? "allowed", why, ip);
  const allowed = [
    "198.51.100.7",
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:93.184.216.34",
    "2002:5db8:d822::1",
  ];
  for (const ip of allowed) assert.equal(forbiddenReason(ip), undefined, ip);
});

void test("the operator's deny list, IPv4 and IPv6 ranges, also inside mapped addresses", () => {
  const { deny, problems } = parseDenyList([
    "203.0.113.5",
    "198.51.100.0/25",
    "2001:db8::/32",
    "nope",
    "1.2.3.4/33",
  ]);
  assert.equal(problems.length, 2);
  assert.match(forbiddenReason("203.0.113.5", deny) ?? "", /denied/);
  assert.equal(forbiddenReason("203.0.113.6", deny), undefined);
  assert.match(forbiddenReason("198.51.100.127", deny) ?? "", /denied/);
  assert.equal(forbiddenReason("198.51.100.128", deny), undefined);
  assert.match(forbiddenReason("2001:db8:1::1", deny) ?? "", /denied/);
  assert.match(forbiddenReason("::ffff:203.0.113.5", deny) ?? "", /denied/);
  assert.equal(parseCidr("::/0", "x")?.prefix, 0);
});
