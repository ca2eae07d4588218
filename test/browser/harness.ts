// Browser tests of the web UI: a real orchestrator (HTTP on a loopback port, real PostgreSQL), a
// real node agent on real sandboxes when a test needs jobs to run, and Debian's Chromium driven
// headless by playwright-core (no browser download). Screenshots go to test-artifacts/screenshots/
// (AIRLOCK_SCREENSHOTS overrides) so a person can look at the pages a run produced.
//
// Every page a test opens records what would mean an attack or a broken page: CSP violations,
// page errors (uncaught exceptions) and console errors; `assertClean(page)` fails on any.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { beginTotp, confirmTotp, createUser, totpCode } from "../../src/auth/index.js";
import { defaultWebRoot } from "../../src/server/web.js";
import { startTestService, type TestService } from "../helpers/service.js";
import type { ServerConfig } from "../../src/server/index.js";

/** Debian's Chromium binary (not the /usr/bin/chromium wrapper script). */
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));

export const SCREENSHOTS = resolve(process.env.AIRLOCK_SCREENSHOTS ?? join("test-artifacts", "screenshots"));

export interface TestUser {
  id: number;
  name: string;
  password: string;
  /** The TOTP secret when the user has a second factor. */
  totpSecret?: string;
}

export interface BrowserHarness {
  t: TestService;
  browser: Browser;
  /** The orchestrator's address (http://127.0.0.1:port). */
  url: string;
  /** A page in a fresh browser context (its own cookies), recording problems for assertClean. */
  newPage(opts?: { width?: number; height?: number }): Promise<Page>;
  /** A built-in user (server admin or not), optionally with TOTP set up. */
  createUser(name: string, opts?: { serverAdmin?: boolean; totp?: boolean }): Promise<TestUser>;
  /** Signs in through the sign-in page (and the second-factor page when the user has TOTP). */
  signIn(page: Page, user: TestUser): Promise<void>;
  /** Saves a full-page screenshot as <name>.png; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Starts a node agent on real sandboxes (labels debian-12 etc. from the image store). */
  startAgent(): Promise<void>;
  stop(): Promise<void>;
}

interface Recorded {
  problems: string[];
}
const RECORDED = new WeakMap<Page, Recorded>();

/** Fails when the page hit a CSP violation, an uncaught exception or a console error. */
export function assertClean(page: Page): void {
  const r = RECORDED.get(page);
  assert.deepEqual(r?.problems ?? [], [], "the page reported problems");
}

export async function startBrowserHarness(
  /** Server settings of the orchestrator (e.g. its port and single sign-on providers). */
  overrides: Partial<ServerConfig> = {},
): Promise<BrowserHarness> {
  if (!CHROMIUM) throw new Error("Chromium is missing: scripts/ensure-system.sh installs Debian's chromium");
  if (!existsSync(join(defaultWebRoot(), "index.html")))
    throw new Error("the web UI is not built: run `npm run build:web` (scripts/test.sh does)");
  mkdirSync(SCREENSHOTS, { recursive: true });
  const t = await startTestService(overrides);
  const url = t.service.url;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  const contexts: BrowserContext[] = [];
  const totpWindow = new Map<number, number>();
  let agentStarted = false;

  return {
    t,
    browser,
    url,
    async newPage(opts = {}) {
      const context = await browser.newContext({
        baseURL: url,
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
      });
      contexts.push(context);
      // Generous waits: a loaded 2-core machine runs real jobs slowly; a wait ends when its
      // condition holds, never by the clock.
      context.setDefaultTimeout(120_000);
      const page = await context.newPage();
      const rec: Recorded = { problems: [] };
      RECORDED.set(page, rec);
      page.on("pageerror", (err) => rec.problems.push(`page error: ${err.message}`));
      page.on("console", (msg) => {
        const text = msg.text();
        // A 401/403/404 answer the page handles is logged by Chromium as a failed resource load.
        if (
          msg.type() === "error" &&
          !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)
        )
          rec.problems.push(`console error: ${text}`);
      });
      // CSP violations: Chromium reports them as console errors ("Refused to …") too; this event
      // catches them even when the console is noisy.
      await page.addInitScript({
        content: `document.addEventListener("securitypolicyviolation", (e) => {
          console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
        });`,
      });
      return page;
    },
    async createUser(name, opts = {}) {
      const password = `${name} password for tests`;
      const u = await createUser(t.db.pool, { name, password, serverAdmin: opts.serverAdmin ?? false });
      const user: TestUser = { id: u.id, name, password };
      if (opts.totp) {
        const { secret } = await beginTotp(t.db.pool, u.id);
        await confirmTotp(t.db.pool, u.id, await totpCode(secret));
        // The confirmation used the current window's code: sign-ins use later windows (a code is
        // accepted once, and the server allows one window of drift).
        totpWindow.set(u.id, 1);
        user.totpSecret = secret;
      }
      return user;
    },
    async signIn(page, user) {
      await page.goto("/runs");
      await page.getByLabel("User name").fill(user.name);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      if (user.totpSecret !== undefined) {
        const w = totpWindow.get(user.id) ?? 0;
        if (w > 1)
          throw new Error(`user ${user.name}: one TOTP sign-in per test user (codes are single-use)`);
        totpWindow.set(user.id, w + 1);
        const code = await totpCode(user.totpSecret, { now: Date.now() + w * 30_000 });
        await page.getByLabel("Code from your authenticator app").fill(code);
        await page.getByRole("button", { name: "Verify" }).click();
      }
      await page.getByRole("button", { name: "Sign out" }).waitFor();
    },
    async screenshot(page, name) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async startAgent() {
      if (agentStarted) return;
      agentStarted = true;
      await t.startAgent(await t.addNode("browser-node"));
    },
    async stop() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await t.stop();
    },
  };
}
