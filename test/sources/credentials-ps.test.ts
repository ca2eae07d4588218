// A clone password never reaches a process's command line or environment: a real git fetch over a
// real `git http-backend` behind basic auth, held at its first authenticated request while every
// process is looked at (`ps -eo args`, /proc/*/cmdline, /proc/*/environ) — then let go. A control
// shows the same look finds a password that is on a command line. The credential's files are
// private (0700 folder, 0600 file) while git runs and gone after it; errors never carry it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { GitCommandError, withGitAuth } from "../../src/git/index.js";
import { openMirror } from "../../src/sources/index.js";
import { initRepo, rmDir, startGitHttp, tempDir, type GitHttpServer } from "../actions/helpers.js";
import { scanProcesses, startAuthProxy, type AuthProxy, type ProcessScan } from "./auth-proxy.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
let root: string;
let tmp: string;
let head: string;
let backend: GitHttpServer;
let proxy: AuthProxy;
const savedTmp = process.env.TMPDIR;

before(async () => {
  root = tempDir("airlock-creds-ps-");
  head = initRepo(join(root, "srv", "octo", "app"), { "a.txt": "a\n" });
  backend = await startGitHttp(join(root, "srv"));
  proxy = await startAuthProxy(backend.url, "ci", PASSWORD);
  // Credential files go to the temporary folder: one of this test's own, to look into.
  tmp = join(root, "tmp");
  mkdirSync(tmp);
  process.env.TMPDIR = tmp;
});

after(async () => {
  process.env.TMPDIR = savedTmp;
  await proxy.close();
  await backend.close();
  rmDir(root);
});

interface Held {
  scan: ProcessScan;
  /** Modes of the credential folders and files that exist while git waits. */
  modes: string[];
}

/** Looks at every process at the first authenticated request (git holds the credential then). */
function holdFirst(): { seen: () => Held | undefined } {
  let held: Held | undefined;
  proxy.onAuthenticated = async () => {
    if (held) return;
    const modes: string[] = [];
    for (const d of readdirSync(tmp).filter((n) => n.startsWith("airlock-cred-"))) {
      modes.push(`${d.replace(/-.*/, "")} ${(statSync(join(tmp, d)).mode & 0o777).toString(8)}`);
      const answer = join(tmp, d, "answer");
      modes.push(`answer ${(statSync(answer).mode & 0o777).toString(8)}`);
    }
    held = { scan: await scanProcesses(PASSWORD), modes };
  };
  return { seen: () => held };
}

const credDirs = (): string[] => readdirSync(tmp).filter((n) => n.startsWith("airlock-cred-"));

void test("a fetch with the repository's clone password: not in ps, any command line or environment", async () => {
  const look = holdFirst();
  const m = openMirror({
    cacheDir: join(root, "cache"),
    cloneUrl: `${proxy.url}/octo/app`,
    auth: () => Promise.resolve({ kind: "basic", username: "ci", password: PASSWORD }),
  });
  await m.fetch();
  assert.equal(await m.resolve("main"), head);
  const held = look.seen();
  assert.ok(held, "git authenticated (the server requires it)");
  // The look happened while git was fetching from this server.
  assert.ok(held.scan.cmdlines.some((c) => c.includes(`127.0.0.1:${proxy.port}/octo/app`)));
  assert.deepEqual(held.scan.hits, []);
  assert.deepEqual(held.modes, ["airlock 700", "answer 600"]);
  assert.deepEqual(credDirs(), [], "the credential's folder is removed after the fetch");
});

void test("a password written in the clone URL is taken out of it before git runs", async () => {
  const look = holdFirst();
  const m = openMirror({
    cacheDir: join(root, "cache-inline"),
    cloneUrl: proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/app",
  });
  assert.equal(m.cloneUrl, `${proxy.url}/octo/app`);
  await m.fetch();
  assert.equal(await m.resolve("main"), head);
  assert.deepEqual(look.seen()?.scan.hits, []);
  assert.ok(look.seen()?.scan.cmdlines.some((c) => c.includes(`127.0.0.1:${proxy.port}`)));
});

void test("control: the same look finds a password that is on git's command line", async () => {
  const look = holdFirst();
  const child = spawn("git", ["ls-remote", proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/app"], {
    stdio: "ignore",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
  });
  const code = await new Promise<number | null>((r) => child.on("close", r));
  assert.equal(code, 0);
  const hits = look.seen()?.scan.hits ?? [];
  assert.ok(hits.includes("ps"), `found in ${hits.join(", ")}`);
  assert.ok(hits.some((h) => h.startsWith("cmdline ")));
});

void test("a wrong password fails with one line that carries neither password; no file stays", async () => {
  proxy.onAuthenticated = undefined;
  const before = proxy.refused;
  const m = openMirror({
    cacheDir: join(root, "cache-wrong"),
    cloneUrl: `${proxy.url}/octo/app`,
    auth: () => Promise.resolve({ kind: "basic", username: "ci", password: `wrong-${PASSWORD}` }),
  });
  await assert.rejects(m.fetch(), (e) => {
    assert.ok(isAirlockError(e, "SOURCE_FETCH_FAILED"));
    assert.ok(!e.message.includes(PASSWORD) && !e.message.includes("\n"), e.message);
    assert.ok(!JSON.stringify(e).includes(PASSWORD));
    return true;
  });
  assert.ok(proxy.refused > before, "git tried the wrong password");
  assert.deepEqual(credDirs(), []);
});

void test("git errors that echo a URL with userinfo are redacted in the message and in stderr", () => {
  const e = new GitCommandError(
    "fetch",
    `fatal: unable to access 'https://ci:${PASSWORD}@h/x/': 403`,
    128,
    false,
  );
  assert.ok(!e.message.includes(PASSWORD) && e.message.includes("https://***@h/x/"));
  assert.ok(!e.stderr.includes(PASSWORD));
});

void test("a deploy key: ssh gets it with -i from a 0600 file, only that identity, host keys checked", async () => {
  const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
  const hosts = "git.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample";
  let seen = "";
  await withGitAuth(
    { kind: "ssh-key", privateKey: key, knownHosts: hosts },
    "ssh://git@example.test/x",
    (env) => {
      seen = env.GIT_SSH_COMMAND ?? "";
      const path = /-i '([^']+)'/.exec(seen)?.[1] ?? "";
      assert.equal(readFileSync(path, "utf8"), key);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const known = /UserKnownHostsFile='([^']+)'/.exec(seen)?.[1] ?? "";
      assert.equal(readFileSync(known, "utf8"), `${hosts}\n`);
      return Promise.resolve();
    },
  );
  assert.match(seen, /^ssh -o BatchMode=yes -o IdentitiesOnly=yes -i '/);
  assert.match(seen, /StrictHostKeyChecking=yes/);
  assert.ok(!seen.includes("StrictHostKeyChecking=no") && !seen.includes("AAAA\n"));
  assert.deepEqual(credDirs(), []);
  // Without known-hosts lines the service user's known_hosts decides (never a blind accept).
  await withGitAuth({ kind: "ssh-key", privateKey: key }, "ssh://git@example.test/x", (env) => {
    assert.ok(!(env.GIT_SSH_COMMAND ?? "").includes("StrictHostKeyChecking"));
    return Promise.resolve();
  });
});
