// A clone password goes to the clone URL's host only: a remote that redirects to another host (two
// local servers on different ports are different hosts for git) never gets it, through a real git
// fetch; and git's credential helper answers only for the clone URL's scheme and host.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { withGitAuth } from "../../src/git/index.js";
import { openMirror } from "../../src/sources/index.js";
import { initRepo, rmDir, startGitHttp, tempDir, type GitHttpServer } from "../actions/helpers.js";
import { startAuthProxy, type AuthProxy } from "./auth-proxy.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
let root: string;
let backend: GitHttpServer;
/** The other host: a git server behind the same password (a leak would even make the fetch work). */
let elsewhere: AuthProxy;
let redirector: Server;
let redirectorUrl: string;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (s: Server): Promise<void> =>
  new Promise((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

before(async () => {
  root = tempDir("airlock-creds-redirect-");
  initRepo(join(root, "srv", "octo", "app"), { "a.txt": "a\n" });
  backend = await startGitHttp(join(root, "srv"));
  elsewhere = await startAuthProxy(backend.url, "ci", PASSWORD);
  // The clone URL's host: redirects everything to the other host.
  redirector = createServer((req, res) => {
    res.writeHead(302, { location: `${elsewhere.url}${req.url ?? "/"}` }).end();
  });
  redirectorUrl = await listen(redirector);
});

after(async () => {
  await close(redirector);
  await elsewhere.close();
  await backend.close();
  rmDir(root);
});

void test("a remote that redirects to another host never receives the clone password", async () => {
  let authenticated = 0;
  elsewhere.onAuthenticated = () => {
    authenticated++;
    return Promise.resolve();
  };
  const m = openMirror({
    cacheDir: join(root, "cache"),
    cloneUrl: `${redirectorUrl}/octo/app`,
    auth: () => Promise.resolve({ kind: "basic", username: "ci", password: PASSWORD }),
  });
  await assert.rejects(m.fetch(), (e: Error) => !e.message.includes(PASSWORD));
  assert.equal(authenticated, 0, "the other host got the password");
});

/** What `git credential fill` gets for a URL with the helper set up for `remote`. */
async function fill(remote: string, asked: string): Promise<string> {
  return withGitAuth({ kind: "basic", username: "ci", password: PASSWORD }, remote, (env) => {
    const base: NodeJS.ProcessEnv = { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0" };
    delete base.GIT_ASKPASS;
    delete base.SSH_ASKPASS;
    const u = new URL(asked);
    const input = `protocol=${u.protocol.slice(0, -1)}\nhost=${u.host}\npath=x\n\n`;
    const r = spawnSync("git", ["credential", "fill"], { input, env: base, encoding: "utf8" });
    return Promise.resolve(r.stdout);
  });
}

void test("the credential helper answers for the clone URL's scheme and host only (port included)", async () => {
  assert.match(
    await fill(`${elsewhere.url}/octo/app`, `${elsewhere.url}/other`),
    new RegExp(`password=${PASSWORD}`),
  );
  assert.match(await fill("https://Git.Example.test/a", "https://git.example.test/b"), /password=/);
  for (const asked of [redirectorUrl, elsewhere.url.replace("http:", "https:"), "http://example.test"]) {
    const out = await fill(`${elsewhere.url}/octo/app`, `${asked}/octo/app`);
    assert.ok(!out.includes(PASSWORD), `answered for ${asked}`);
  }
});
