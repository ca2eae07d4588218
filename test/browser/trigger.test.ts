// "Run workflow" in a real browser: a maintainer starts a workflow_dispatch run with an input from
// the repository's runs page and lands on the run, which goes green with the input in its log; a
// ref that is not a branch name is refused in one line with the form kept as typed; a viewer has
// no such button. Real orchestrator, PostgreSQL, agent and sandboxes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertClean, startBrowserHarness, type BrowserHarness } from "./harness.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository } from "../helpers/service.js";

let h: BrowserHarness;
let repo: TempRepo;
let repoId: number;
const LONG = 180_000;

before(async () => {
  h = await startBrowserHarness();
  await h.startAgent();
  repo = makeRepo({
    ".github/workflows/manual.yml": `name: Manual
on:
  workflow_dispatch:
    inputs:
      greeting: { required: true, type: string }
jobs:
  hello:
    runs-on: ubuntu-latest
    steps:
      - run: echo "greeting is \${{ inputs.greeting }}"
`,
  });
  repoId = await addRepository(h.t, "acme/manual", repo.dir);
});

after(async () => {
  await h?.stop();
  repo?.remove();
});

describe("run workflow from the browser", () => {
  it("starts a workflow_dispatch run with an input and shows it going green", { timeout: LONG }, async () => {
    const admin = await h.createUser("maria", { serverAdmin: true });
    const page = await h.newPage();
    await h.signIn(page, admin);
    await page.goto(`/repos/${repoId}/runs`);
    await page.getByTestId("trigger-open").click();
    // A mistake first: refused in one line, the form kept.
    await page.getByTestId("trigger-ref").fill("bad..ref");
    await page.getByTestId("trigger-submit").click();
    const error = page.getByRole("alert");
    await error.waitFor();
    assert.equal(((await error.textContent()) ?? "").split("\n").length, 1);
    assert.equal(await page.getByTestId("trigger-ref").inputValue(), "bad..ref");
    await page.getByTestId("trigger-ref").fill("main");
    await page.getByTestId("trigger-event").selectOption("workflow_dispatch");
    await page.getByTestId("trigger-inputs").fill("greeting=hello from the browser");
    await h.screenshot(page, "run-workflow-form");
    await page.getByTestId("trigger-submit").click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(new URL(page.url()).pathname.split("/").pop());
    const run = await h.t.waitRun(runId, LONG);
    assert.equal(run.conclusion, "success");
    const job = run.jobs[0]!;
    const log = await h.t.api<string>("GET", `/api/v1/jobs/${job.id}/logs`);
    assert.match(log.text, /greeting is hello from the browser/);
    assertClean(page);
  });

  it("gives a viewer of the repository no Run workflow button", async () => {
    const viewer = await h.createUser("victor");
    const grant = await h.t.api("PUT", `/api/v1/repositories/${repoId}/members/victor`, { role: "viewer" });
    assert.equal(grant.status < 300, true, grant.text);
    const page = await h.newPage();
    await h.signIn(page, viewer);
    await page.goto(`/repos/${repoId}/runs`);
    await page.getByRole("heading", { name: /Runs of acme\/manual/ }).waitFor();
    // Once the page has read the permissions, the button is absent (not disabled).
    await page.locator('[data-permissions="loaded"]').waitFor();
    assert.equal(await page.getByTestId("trigger-open").count(), 0);
    assertClean(page);
  });
});
