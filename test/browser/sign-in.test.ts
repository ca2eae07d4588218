// Signing in to the web UI in a real browser: password + TOTP against the real orchestrator, the
// session surviving a reload (GET /auth/session), a wrong password answered in one line on the
// page, signing out, and an API link opened in the browser landing on its page.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertClean, startBrowserHarness, type BrowserHarness } from "./harness.js";
import type { Page } from "playwright-core";

let h: BrowserHarness;

before(async () => {
  h = await startBrowserHarness();
});

after(async () => {
  await h?.stop();
});

describe("sign-in", () => {
  it("signs in with password and TOTP, stays signed in across a reload, and signs out", async () => {
    const admin = await h.createUser("ada", { serverAdmin: true, totp: true });
    const page = await h.newPage();
    await page.goto("/runs");
    await page.getByRole("heading", { name: "Sign in to Airlock" }).waitFor();
    await h.screenshot(page, "sign-in");
    await h.signIn(page, admin);
    assert.equal(await page.locator(".user-name").textContent(), "ada");
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Airlock" }).waitFor();
    // The session is over on the server too, not just forgotten by the page.
    const status = await page.evaluate(async () => (await fetch("/api/v1/auth/session")).status);
    assert.equal(status, 401);
    assertClean(page);
  });

  it("answers a wrong password in one line and keeps the user name typed", async () => {
    await h.createUser("bob");
    const page = await h.newPage();
    await page.goto("/runs");
    await page.getByLabel("User name").fill("bob");
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    const error = page.getByRole("alert");
    await error.waitFor();
    const text = (await error.textContent()) ?? "";
    assert.equal(text.split("\n").length, 1);
    assert.match(text, /user name or password/i);
    assert.equal(await page.getByLabel("User name").inputValue(), "bob");
  });

  it("takes a browser opening an API link to the matching page, after signing in", async () => {
    const carol = await h.createUser("carol", { serverAdmin: true });
    const page = await h.newPage();
    await h.signIn(page, carol);
    await page.goto("/api/v1/runs/42");
    assert.equal(new URL(page.url()).pathname, "/runs/42");
  });

  it("runs under a CSP that blocks inline script, and the harness notices the attempt", async () => {
    const page: Page = await h.newPage();
    await page.goto("/runs");
    await page.getByRole("heading", { name: "Sign in to Airlock" }).waitFor();
    // Browser-side code as strings: the tests type-check without the DOM library.
    await page.evaluate(`(() => {
      const s = document.createElement("script");
      s.textContent = "window.__inline = 1";
      document.body.appendChild(s);
    })()`);
    await page.getByRole("heading", { name: "Sign in to Airlock" }).waitFor();
    assert.equal(await page.evaluate("window.__inline"), undefined);
    assert.throws(() => assertClean(page), /CSP violation|Refused to execute inline script/);
  });
});
