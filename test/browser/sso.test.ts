// Single sign-on in a real browser: the sign-in page lists the OpenID Connect provider the server
// is configured with; its button goes through a real OpenID Provider (oidc-provider, its login and
// consent pages) and back to the page the user asked for, signed in as the provider's user. The
// orchestrator listens on a port chosen first, so the provider knows its redirect URI.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadServerConfig } from "../../src/server/index.js";
import { startOidcProvider, type TestProvider } from "../helpers/oidc-provider.js";
import { startBrowserHarness, type BrowserHarness } from "./harness.js";

let h: BrowserHarness;
let op: TestProvider;
let dir: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

before(async () => {
  const port = await freePort();
  const secret = "oidc-client-secret-for-the-browser-test";
  op = await startOidcProvider({
    clients: [
      {
        client_id: "airlock",
        client_secret: secret,
        redirect_uris: [`http://127.0.0.1:${port}/api/v1/auth/oidc/corp/callback`],
      },
    ],
  });
  op.accounts.set("sub-browser-1", { preferred_username: "olga", name: "Olga from Corp" });
  dir = await mkdtemp(join(tmpdir(), "airlock-browser-sso-"));
  await writeFile(join(dir, "oidc-secret"), `${secret}\n`, { mode: 0o600 });
  const file = join(dir, "airlock.yaml");
  await writeFile(
    file,
    stringify({
      auth: {
        oidc: [
          {
            id: "corp",
            name: "Corp SSO",
            issuer: op.issuer,
            clientId: "airlock",
            clientSecretFile: join(dir, "oidc-secret"),
            scopes: ["openid", "profile"],
          },
        ],
      },
    }),
  );
  h = await startBrowserHarness({ listenPort: port, auth: loadServerConfig({ file, env: {} }).auth });
});

after(async () => {
  await h?.stop();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("single sign-on in the browser", () => {
  it("signs in through the OpenID provider and comes back to the page asked for", async () => {
    const page = await h.newPage();
    await page.goto("/runs?status=failure");
    await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
    // The provider's own pages: its login form, then its consent.
    await page.locator('input[name="login"]').fill("sub-browser-1");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.origin, h.url);
    assert.equal(url.pathname + url.search, "/runs?status=failure");
    assert.equal(await page.locator(".user-name").textContent(), "olga");
    // The session is a real one: the API answers the page's own requests.
    const status = await page.evaluate("fetch('/api/v1/auth/me').then((r) => r.status)");
    assert.equal(status, 200);
    await h.screenshot(page, "signed-in-by-sso");
  });
});
