// The administration pages in Chromium against a real orchestrator and PostgreSQL: a repository
// added with its webhook secret shown once, a secret that never comes back, what a viewer does
// not see, a pool authorization approved, an API token shown once, TOTP set up end to end, the
// audit log filtered. Screenshots of the main pages go to test-artifacts/screenshots/admin-*.png.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { generate } from "otplib";
import { requestAuthorizations } from "../../src/orchestrator/pools/index.js";
import { assertClean, startBrowserHarness, type BrowserHarness, type TestUser } from "./harness.js";

let h: BrowserHarness;
let root: TestUser;
let page: Page;
let repoId: number;

async function shot(p: Page, name: string): Promise<void> {
  await h.screenshot(p, `admin-${name}`);
}

/** An API answer read with the page's own session, to look for a value that must not be there. */
async function api(p: Page, path: string): Promise<string> {
  const res = await p.request.get(`/api/v1${path}`);
  assert.equal(res.status(), 200, path);
  return res.text();
}

/** Set-up through the API as the service's administrator. */
async function call(method: string, path: string, body?: object): Promise<unknown> {
  const r = await h.t.api(method, `/api/v1${path}`, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

before(async () => {
  h = await startBrowserHarness();
  root = await h.createUser("root", { serverAdmin: true });
  page = await h.newPage({ width: 1200, height: 900 });
  page.setDefaultTimeout(60_000);
  await h.signIn(page, root);
});

after(async () => {
  await h?.stop();
});

describe("administration pages", () => {
  it("adds a repository and shows its webhook secret once", async () => {
    await page.goto(`/admin/repos`);
    await page.click('[data-testid="repo-add-open"]');
    await page.fill('[data-testid="repo-add-name"]', "acme/web");
    await page.fill('[data-testid="repo-add-url"]', "https://git.example.com/acme/web.git");
    await page.click('[data-testid="repo-add-submit"]');
    const secret = (await page.textContent('[data-testid="webhook-secret-value"]')) ?? "";
    assert.match(secret, /^\S{20,}$/);
    assert.match((await page.textContent('[data-testid="webhook-secret"]')) ?? "", /shown once/);
    assert.match((await page.textContent('[data-testid="webhook-urls"]')) ?? "", /webhooks\/github\/\d+/);
    await shot(page, "repository-added");
    await page.reload();
    await page.waitForSelector('[data-testid="repo-row"][data-name="acme/web"]');
    assert.ok(!(await page.content()).includes(secret), "the secret is gone after a reload");
    assert.equal(await page.locator('[data-testid="webhook-secret"]').count(), 0);
    const repos = JSON.parse(await api(page, "/repositories")) as { id: number; name: string }[];
    repoId = repos.find((r) => r.name === "acme/web")!.id;
    await page.click(`a[href="/admin/repos/${repoId}"]`);
    await page.waitForSelector('[data-testid="repo-page"][data-permissions="loaded"]');
    assert.ok(!(await page.content()).includes(secret), "nor on the repository's page");
    assert.ok(!(await api(page, `/repositories/${repoId}`)).includes(secret), "nor in the API's answer");
    // An administrator has the buttons a viewer will not.
    for (const id of ["repo-edit-open", "repo-delete", "secrets-form", "members-form", "env-add-open"])
      assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, id);
  });

  it("keeps what was typed and shows the server's one-line error when adding fails", async () => {
    await page.goto(`/admin/repos`);
    await page.click('[data-testid="repo-add-open"]');
    await page.fill('[data-testid="repo-add-name"]', "acme/web");
    await page.fill('[data-testid="repo-add-url"]', "https://git.example.com/acme/web.git");
    await page.click('[data-testid="repo-add-submit"]');
    const error = page.locator('[data-testid="repo-add"] [role="alert"]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? "", /\S/);
    assert.doesNotMatch((await error.textContent()) ?? "", /\n|at .*\(/, "one line, no stack");
    assert.equal(await page.inputValue('[data-testid="repo-add-name"]'), "acme/web");
  });

  it("edits a repository and removes another only after its name is typed", async () => {
    await page.goto(`/admin/repos/${repoId}`);
    await page.click('[data-testid="repo-edit-open"]');
    await page.fill('[data-testid="repo-edit-branch"]', "trunk");
    await page.fill('[data-testid="repo-edit-poll"]', "120");
    await page.click('[data-testid="repo-edit-submit"]');
    await page.waitForSelector('[data-testid="repo-settings"] >> text=every 120 s');
    const r = JSON.parse(await api(page, `/repositories/${repoId}`)) as {
      defaultBranch: string;
      visibility?: string;
    };
    assert.equal(r.defaultBranch, "trunk");
    if (r.visibility !== undefined) {
      // Repositories with a visibility (public status badges) can be switched here.
      await page.click('[data-testid="repo-edit-open"]');
      await page.selectOption('[data-testid="repo-edit-visibility"]', "public");
      await page.click('[data-testid="repo-edit-submit"]');
      await page.waitForSelector('[data-testid="repo-visibility"] >> text=public');
      await page.click('[data-testid="repo-edit-open"]');
      await page.selectOption('[data-testid="repo-edit-visibility"]', "private");
      await page.click('[data-testid="repo-edit-submit"]');
      await page.waitForSelector('[data-testid="repo-visibility"] >> text=private');
    }

    const doomed = (await call("POST", "/repositories", {
      name: "acme/old",
      cloneUrl: "https://git.example.com/acme/old.git",
    })) as { id: number };
    await page.goto(`/admin/repos/${doomed.id}`);
    await page.click('[data-testid="repo-delete"]');
    await page.fill('[data-testid="repo-delete-name"]', "acme/ol");
    assert.equal(await page.isDisabled('[data-testid="repo-delete-confirm"]'), true);
    await page.fill('[data-testid="repo-delete-name"]', "acme/old");
    await page.click('[data-testid="repo-delete-confirm"]');
    await page.waitForSelector('[data-testid="repo-row"][data-name="acme/web"]');
    assert.equal(await page.locator('[data-testid="repo-row"][data-name="acme/old"]').count(), 0);
  });

  it("stores a secret without ever showing its value again", async () => {
    const value = "s3cr3t-Value-0f-the-test-7351";
    await page.goto(`/admin/repos/${repoId}`);
    await page.fill('[data-testid="secrets-name"]', "DEPLOY_TOKEN");
    await page.fill('[data-testid="secrets-value"]', value);
    assert.equal(await page.getAttribute('[data-testid="secrets-value"]', "type"), "password");
    await page.click('[data-testid="secrets-form-submit"]');
    await page.waitForSelector('[data-testid="secrets-row"][data-name="DEPLOY_TOKEN"]');
    assert.equal(await page.inputValue('[data-testid="secrets-value"]'), "", "the field is emptied");
    assert.ok(!(await page.content()).includes(value));
    assert.ok(!page.url().includes(value));
    await page.reload();
    await page.waitForSelector('[data-testid="secrets-row"][data-name="DEPLOY_TOKEN"]');
    assert.ok(!(await page.content()).includes(value));
    // Replacing a secret prefills its name, never its value.
    await page.click('[data-testid="secrets-row"][data-name="DEPLOY_TOKEN"] [data-testid="secrets-replace"]');
    assert.equal(await page.inputValue('[data-testid="secrets-name"]'), "DEPLOY_TOKEN");
    assert.equal(await page.inputValue('[data-testid="secrets-value"]'), "");
    for (const path of [
      `/repositories/${repoId}/secrets`,
      `/repositories/${repoId}/secrets/DEPLOY_TOKEN`,
      `/audit?limit=1000`,
    ])
      assert.ok(!(await api(page, path)).includes(value), path);
    await shot(page, "repository");
  });

  it("shows a viewer no administration buttons", async () => {
    const val = await h.createUser("val");
    await call("PUT", `/repositories/${repoId}/members/val`, { role: "viewer" });
    const p = await h.newPage({ width: 1200, height: 900 });
    await h.signIn(p, val);
    await p.goto("/admin");
    const nav = (await p.textContent('[data-testid="admin-nav"]')) ?? "";
    for (const hidden of ["Nodes", "Pools", "Authorizations", "Users", "Audit log"])
      assert.ok(!nav.includes(hidden), hidden);
    await p.goto(`/admin/repos`);
    await p.waitForSelector('[data-testid="repo-row"][data-name="acme/web"]');
    assert.equal(await p.locator('[data-testid="repo-add-open"]').count(), 0);
    await p.goto(`/admin/repos/${repoId}`);
    await p.waitForSelector('[data-testid="repo-page"][data-permissions="loaded"]');
    for (const id of [
      "repo-edit-open",
      "repo-delete",
      "secrets-form",
      "secrets-delete",
      "variables-form",
      "members-form",
      "env-add-open",
      "egress",
      "credential",
    ])
      assert.equal(await p.locator(`[data-testid="${id}"]`).count(), 0, id);
    assert.equal(await p.locator("button.danger").count(), 0);
    // What a viewer may read is there once the server says so (GET /me/permissions).
    if ((await p.request.get(`/api/v1/me/permissions?repository=${repoId}`)).ok()) {
      await p.getByRole("heading", { name: "Variables" }).waitFor();
      await p.getByRole("heading", { name: "Environments" }).waitFor();
      assert.equal(
        await p.getByRole("heading", { name: "Secrets" }).count(),
        0,
        "secrets are for maintainers",
      );
    }
    await shot(p, "repository-as-viewer");
    // Pages for server administrators say so instead of offering anything.
    await p.goto("/admin/nodes");
    await p.waitForSelector("text=Nodes are managed by server administrators.");
    assert.equal(
      await p
        .locator("button")
        .filter({ hasText: /Disable|Revoke|registration/ })
        .count(),
      0,
    );
    // The server refuses what the page does not offer.
    const res = await p.request.delete(`/api/v1/repositories/${repoId}`);
    assert.equal(res.status(), 403);
    assertClean(p);
  });

  it("approves a requested pool authorization", async () => {
    await call("POST", "/pools", { name: "gpu", trust: "high" });
    await requestAuthorizations(h.t.db.pool, repoId, ["gpu"]);
    await page.goto(`/admin/authorizations`);
    const row = page.locator('[data-testid="authorization-row"][data-repository="acme/web"]');
    await row.waitFor();
    assert.equal(await row.getAttribute("data-state"), "requested");
    await shot(page, "authorizations");
    await row.locator('[data-testid="authorization-approve"]').click();
    await page.waitForSelector(
      '[data-testid="authorization-row"][data-repository="acme/web"][data-state="approved"]',
    );
    const list = JSON.parse(await api(page, "/authorizations")) as { repository: string; state: string }[];
    assert.deepEqual(
      list.filter((a) => a.repository === "acme/web").map((a) => a.state),
      ["approved"],
    );
  });

  it("marks a high-trust pool as a deploy pool, and back", async () => {
    await call("POST", "/pools", { name: "ship", trust: "high" });
    await page.goto(`/admin/pools`);
    const row = page.locator('[data-testid="pool-row"][data-name="ship"]');
    await row.waitFor();
    await row.locator('[data-testid="pool-deploy"]').click();
    await page.waitForSelector('[data-testid="pool-row"][data-name="ship"][data-deploy="yes"]');
    const deployOf = async (): Promise<boolean | undefined> =>
      (JSON.parse(await api(page, "/pools")) as { name: string; deploy: boolean }[]).find(
        (x) => x.name === "ship",
      )?.deploy;
    assert.equal(await deployOf(), true);
    await row.locator('[data-testid="pool-deploy"]').click();
    await page.waitForSelector('[data-testid="pool-row"][data-name="ship"][data-deploy="no"]');
    assert.equal(await deployOf(), false);
    assertClean(page);
  });

  it("creates an API token, shows it once, and it works", async () => {
    await page.goto(`/admin/account`);
    await page.fill('[data-testid="my-tokens-name"]', "ci-token");
    await page.click('[data-testid="my-tokens-form-submit"]');
    const token = (await page.textContent('[data-testid="my-tokens-new-value"]')) ?? "";
    assert.ok(token.length > 20);
    const me = await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: { name: string } }).user.name, "root");
    await page.click('[data-testid="my-tokens-new-dismiss"]');
    assert.ok(!(await page.content()).includes(token));
    await page.reload();
    await page.waitForSelector('[data-testid="my-tokens-row"][data-name="ci-token"]');
    assert.ok(!(await page.content()).includes(token));
    assert.ok(!(await api(page, "/tokens")).includes(token));
    await shot(page, "account");
  });

  it("sets up TOTP end to end: enrol, recovery codes once, sign in with a code", async () => {
    const tess = await h.createUser("tess");
    const p = await h.newPage({ width: 1200, height: 900 });
    await h.signIn(p, tess);
    await p.goto(`/admin/account`);
    await p.click('[data-testid="totp-begin-submit"]');
    const secret = (await p.textContent('[data-testid="totp-secret"]')) ?? "";
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.match((await p.textContent('[data-testid="totp-uri"]')) ?? "", /^otpauth:\/\/totp\//);
    const code = (at: number): Promise<string> =>
      generate({
        strategy: "totp",
        secret,
        algorithm: "sha1",
        digits: 6,
        period: 30,
        epoch: Math.floor(at / 1000),
      });
    const now = Date.now();
    await p.fill('[data-testid="totp-code"]', await code(now));
    await p.click('[data-testid="totp-confirm-submit"]');
    const codes = (await p.textContent('[data-testid="recovery-codes-value"]')) ?? "";
    assert.ok(codes.trim().split(/\s+/).length >= 5, codes);
    await p.waitForSelector('[data-testid="totp-state"] >> text=TOTP is set up');
    // The new session (the server ended the old one) works for a change: CSRF token renewed.
    await p.fill('[data-testid="my-tokens-name"]', "after-totp");
    await p.click('[data-testid="my-tokens-form-submit"]');
    await p.waitForSelector('[data-testid="my-tokens-new-value"]');
    await p.click('[data-testid="recovery-codes-dismiss"]');
    await p.reload();
    await p.waitForSelector('[data-testid="totp-state"]');
    assert.ok(!(await p.content()).includes(codes.trim().split(/\s+/)[0]!), "recovery codes shown once");
    assertClean(p);
    // Signing in again takes a code: the next step's (the one just used is spent).
    const q = await h.newPage();
    await q.goto("/admin");
    await q.getByLabel("User name").fill("tess");
    await q.getByLabel("Password").fill(tess.password);
    await q.getByRole("button", { name: "Sign in" }).click();
    await q.getByLabel("Code from your authenticator app").fill(await code(now + 30_000));
    await q.getByRole("button", { name: "Verify" }).click();
    await q.waitForSelector('[data-testid="admin-nav"]');
    assert.equal(await q.locator(".user-name").textContent(), "tess");
  });

  it("filters the audit log", async () => {
    await page.goto(`/admin/audit`);
    await page.fill('[data-testid="audit-action"]', "secret");
    await page.click('[data-testid="audit-apply"]');
    // The unfiltered page has secret.created rows too: wait (checked at each frame by the page
    // itself) until the filtered list has replaced it.
    await page.evaluate(`new Promise((resolve, reject) => {
      // A safety net only (the harness's two minutes per action), not a synchronisation.
      const stop = Date.now() + 120000;
      const check = () => {
        if (Date.now() > stop) return reject(new Error("the filtered audit list never showed"));
        const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
        const all = rows.length > 0 && rows.every((r) => (r.getAttribute("data-action") ?? "").startsWith("secret."));
        if (all) resolve(true);
        else requestAnimationFrame(check);
      };
      check();
    })`);
    const actions = await page
      .locator('[data-testid="audit-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
    assert.ok(actions.length > 0);
    for (const a of actions) assert.match(a ?? "", /^secret\./);
    await page.fill('[data-testid="audit-action"]', "repository");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForSelector('[data-testid="audit-row"][data-action="repository.deleted"]');
    for (const a of await page
      .locator('[data-testid="audit-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action"))))
      assert.match(a ?? "", /^repository\./);
    // A bad filter is the server's one line, not an empty page.
    await page.fill('[data-testid="audit-actor"]', "Not An Actor");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForSelector('[role="alert"]');
    assert.equal(
      await page.locator('[data-testid="audit-row"]').count(),
      0,
      "no stale entries under an error",
    );
    await page.fill('[data-testid="audit-actor"]', "");
    await page.click('[data-testid="audit-apply"]');
    await page.waitForSelector('[data-testid="audit-row"][data-action="repository.deleted"]');
    await shot(page, "audit");
  });

  it("adds an environment with protection rules and its own secret", async () => {
    await page.goto(`/admin/repos/${repoId}`);
    await page.click('[data-testid="env-add-open"]');
    await page.fill('[data-testid="env-add-name"]', "production");
    await page.fill('[data-testid="env-reviewers"]', "root, val");
    await page.fill('[data-testid="env-wait"]', "5");
    await page.click('[data-testid="env-add-submit"]');
    const row = page.locator('[data-testid="env-row"][data-name="production"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /Wait timer: 5 min/);
    const env = JSON.parse(await api(page, `/repositories/${repoId}/environments/production`)) as {
      reviewers: string[];
      waitTimerMinutes: number;
    };
    assert.deepEqual([...env.reviewers].sort(), ["root", "val"]);
    assert.equal(env.waitTimerMinutes, 5);
    await row.locator('[data-testid="env-items-open"]').click();
    const value = "env-only-secret-value-9931";
    await row.locator('[data-testid="env-secrets-name"]').fill("PROD_KEY");
    await row.locator('[data-testid="env-secrets-value"]').fill(value);
    await row.locator('[data-testid="env-secrets-form-submit"]').click();
    await row.locator('[data-testid="env-secrets-row"][data-name="PROD_KEY"]').waitFor();
    assert.ok(!(await page.content()).includes(value));
    assert.ok(!(await api(page, `/repositories/${repoId}/environments/production/secrets`)).includes(value));
    // A rule the server refuses is its one line; the form keeps what was typed.
    await row.locator('[data-testid="env-edit-open"]').click();
    await row.locator('[data-testid="env-reviewers"]').fill("nobody-by-this-name");
    await row.locator('[data-testid="env-edit-submit"]').click();
    await row.locator('[data-testid="env-edit"] [role="alert"]').waitFor();
    assert.equal(await row.locator('[data-testid="env-reviewers"]').inputValue(), "nobody-by-this-name");
  });

  it("makes a node registration token once, and drains and re-enables a node", async () => {
    await page.goto(`/admin/nodes`);
    await page.fill('[data-testid="registration-name"]', "builder-1");
    await page.click('[data-testid="registration-submit"]');
    const token = (await page.textContent('[data-testid="registration-token-value"]')) ?? "";
    assert.ok(token.length > 20);
    await page.click('[data-testid="registration-token-dismiss"]');
    assert.ok(!(await page.content()).includes(token));
    const done = await fetch(`${h.url}/api/v1/agent/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(done.status, 201, "the token shown is the one that registers a node");
    await page.reload();
    const row = page.locator('[data-testid="node-row"][data-name="builder-1"]');
    await row.waitFor();
    assert.equal(await row.getAttribute("data-state"), "offline");
    await row.locator('[data-testid="node-disable"]').click();
    await row.locator('[data-testid="node-disable-confirm"]').click();
    await page.waitForSelector('[data-testid="node-row"][data-name="builder-1"][data-state="disabled"]');
    await row.locator('[data-testid="node-enable"]').click();
    await page.waitForSelector('[data-testid="node-row"][data-name="builder-1"][data-state="offline"]');
    await row.locator('[data-testid="node-edit"]').click();
    await page.fill('[data-testid="node-labels-text"]', "linux, gpu");
    await page.click('[data-testid="node-labels-submit"]');
    await page.waitForSelector('[data-testid="node-row"][data-name="builder-1"] >> text=gpu');
    const nodes = JSON.parse(await api(page, "/nodes")) as { name: string; labels: string[] }[];
    assert.deepEqual(nodes.find((n) => n.name === "builder-1")?.labels, ["linux", "gpu"]);
    await row.locator('[data-testid="node-credential"]').click();
    await row.locator('[data-testid="node-credential-confirm"]').click();
    const credential = (await page.textContent('[data-testid="node-credential-new-value"]')) ?? "";
    assert.ok(credential.length > 20);
    await shot(page, "nodes");
    await page.click('[data-testid="node-credential-new-dismiss"]');
    assert.ok(!(await page.content()).includes(credential));
    assert.ok(!(await api(page, "/nodes")).includes(credential));
  });

  it("creates an organization and a service token shown once", async () => {
    await page.goto(`/admin/orgs`);
    await page.fill('[data-testid="org-add-name"]', "acme");
    await page.click('[data-testid="org-add-submit"]');
    await page.click('a[href="/admin/orgs/acme"]');
    await page.waitForSelector('[data-testid="org-page"][data-permissions="loaded"]');
    await page.fill('[data-testid="org-tokens-name"]', "deployer");
    await page.click('[data-testid="org-tokens-form-submit"]');
    const token = (await page.textContent('[data-testid="org-tokens-new-value"]')) ?? "";
    assert.ok(token.length > 20);
    const me = await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await me.json()) as { kind: string }).kind, "service");
    await page.reload();
    await page.waitForSelector('[data-testid="org-tokens-row"][data-name="deployer"]');
    assert.ok(!(await page.content()).includes(token));
    await shot(page, "organization");
  });

  it("creates a user, grants a role, disables them", async () => {
    await page.goto("/admin/users");
    await page.fill('[data-testid="user-add-name"]', "uma");
    await page.fill('[data-testid="user-add-password"]', "uma password long enough");
    await page.click('[data-testid="user-add-submit"]');
    const row = page.locator('[data-testid="user-row"][data-name="uma"]');
    await row.waitFor();
    assert.equal(await page.inputValue('[data-testid="user-add-password"]'), "");
    await row.locator('[data-testid="user-open"]').click();
    await page.selectOption('[data-testid="user-grant-where"]', `repo:${repoId}`);
    await page.selectOption('[data-testid="user-grant-role"]', "developer");
    await page.click('[data-testid="user-grant-submit"]');
    await page.waitForSelector('[data-testid="user-role"] >> text=developer on repository acme/web');
    const users = JSON.parse(await api(page, "/users")) as { id: number; name: string; disabled: boolean }[];
    const uma = users.find((u) => u.name === "uma")!;
    const detail = JSON.parse(await api(page, `/users/${uma.id}`)) as {
      roles: { role: string; repository: string }[];
    };
    assert.deepEqual(
      detail.roles.map((g) => [g.role, g.repository]),
      [["developer", "acme/web"]],
    );
    await row.locator('[data-testid="user-disable"]').click();
    await row.locator('[data-testid="user-disable-confirm"]').click();
    await page.waitForSelector('[data-testid="user-row"][data-name="uma"] >> text=disabled');
    const after = JSON.parse(await api(page, `/users/${uma.id}`)) as { disabled: boolean };
    assert.equal(after.disabled, true);
    await shot(page, "users");
  });

  it("renders every main page without an error (screenshots)", async () => {
    const pages: [string, string][] = [
      ["/admin", "dashboard"],
      ["/admin/repos", "repositories"],
      ["/admin/orgs", "organizations"],
      ["/admin/pools", "pools"],
    ];
    for (const [path, name] of pages) {
      await page.goto(path);
      await page.waitForSelector("section.card");
      await shot(page, name);
    }
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`/admin/repos/${repoId}`);
    await page.waitForSelector('[data-testid="repo-page"]');
    await shot(page, "repository-phone");
    // Evaluated in the page (a string: the test's own type-check has no DOM).
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    assert.ok(overflow <= 1, `the page fits a phone (overflow ${overflow}px)`);
    await page.setViewportSize({ width: 1200, height: 900 });
    assertClean(page);
  });
});
