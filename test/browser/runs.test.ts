// The runs list, run page and job log in a real browser against the real orchestrator, agent and
// sandboxes: a job turns green on the run page without a reload; its log shows ANSI colour, step
// sections and a folded ::group::, is searched and linked by line (#L3); a running run is
// cancelled, the failed jobs of a run re-run, an untrusted run and an environment deployment
// approved; a viewer sees no button; hostile text in a branch name, a commit message, a log line
// and a step summary stays text; a 50 MiB log opens and scrolls (figures printed, not asserted).
// Screenshots of the three pages are saved (test-artifacts/screenshots/).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { assertClean, startBrowserHarness, type BrowserHarness, type TestUser } from "./harness.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository, triggerRuns } from "../helpers/service.js";

let h: BrowserHarness;
let admin: TestUser;
const repos: TempRepo[] = [];
/** Long enough for a real sandbox job on a loaded 2-core machine; never a synchronisation sleep. */
const LONG = 180_000;

const CI = `name: CI
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Colours
        run: |
          printf '\\033[31mred needle\\033[0m plain\\n'
          echo "second needle line"
      - name: Grouped
        run: |
          echo "::group::Fold me"
          echo "inside the group"
          echo "::endgroup::"
          echo "::warning::look at this warning"
          echo "## Summary of the build" >> "$GITHUB_STEP_SUMMARY"
          echo "<img src=x onerror=window.__xss=3> and [bad](javascript:window.__xss=4)" >> "$GITHUB_STEP_SUMMARY"
  test:
    needs: build
    strategy:
      matrix:
        n: [1, 2]
    runs-on: ubuntu-latest
    steps:
      - run: echo "leg \${{ matrix.n }}"
`;

const FAILING = `name: Flaky
on: push
jobs:
  good:
    runs-on: ubuntu-latest
    steps:
      - run: echo fine
  bad:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "::error::this job fails"
          exit 1
`;

const SLOW = `name: Slow
on: push
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 600
`;

const NOWHERE = `name: Fork
on: push
jobs:
  probe:
    runs-on: [self-hosted, no-node-has-this]
    steps:
      - run: echo never
`;

const XSS_BRANCH = "<svg/onload=window.__xss=1>";
const XSS_COMMIT = "<img src=x onerror=window.__xss=1>";
const XSS_LOG = "<img src=x onerror=window.__xss=2>";
const XSS = `name: Hostile
on: push
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
      - run: echo '${XSS_LOG}'
`;

interface JobRow {
  id: number;
  reusedFrom: number | null;
  jobId: string;
  name: string;
  state: string;
  conclusion: string | null;
  attempt: number;
}
interface RunRow {
  id: number;
  state: string;
  conclusion: string | null;
  attempt: number;
  jobs: JobRow[];
}

async function repoWith(name: string, workflow: string): Promise<{ id: number; repo: TempRepo }> {
  const repo = makeRepo({ [`.github/workflows/${name}.yml`]: workflow });
  repos.push(repo);
  return { id: await addRepository(h.t, `acme/${name}`, repo.dir), repo };
}

async function run(id: number): Promise<RunRow> {
  const r = await h.t.api<RunRow>("GET", `/api/v1/runs/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function signedIn(): Promise<Page> {
  const page = await h.newPage();
  await h.signIn(page, admin);
  return page;
}

/** A marker set in the page: still there later means the page was not reloaded. */
async function mark(page: Page): Promise<void> {
  await page.evaluate("window.__noReload = 'still here'");
}
async function notReloaded(page: Page): Promise<void> {
  assert.equal(await page.evaluate("window.__noReload"), "still here");
}

before(async () => {
  h = await startBrowserHarness();
  admin = await h.createUser("ada", { serverAdmin: true });
});

after(async () => {
  await h?.stop();
  for (const r of repos) r.remove();
});

describe("runs, run page and job log", () => {
  let ciRun = 0;
  let buildJob = 0;

  it("shows a queued job's wait reason, then the job turning green without a reload", async () => {
    const { id } = await repoWith("ci", CI);
    // No node yet: the jobs wait, and the page says why.
    [ciRun] = (await triggerRuns(h.t, id)) as [number];
    const page = await signedIn();
    await page.goto(`/runs/${ciRun}`);
    const build = page.locator('[data-testid="job-node"][data-job="build"]');
    await build.waitFor();
    await page.getByTestId("wait-reason").first().waitFor();
    assert.equal(await build.getAttribute("data-state"), "queued");
    assert.equal(
      await page.locator('[data-testid="job-node"][data-job="test"]').getAttribute("data-state"),
      "waiting",
      "a job without rows yet waits for the jobs it needs",
    );
    await mark(page);
    await h.startAgent();
    await page
      .locator('[data-testid="job-node"][data-job="build"][data-state="success"]')
      .waitFor({ timeout: LONG });
    await page.locator('[data-testid="run-page"][data-run-state="completed"]').waitFor({ timeout: LONG });
    await notReloaded(page);
    // Everything passed: re-run all, but nothing failed to re-run.
    await page.getByTestId("rerun-all").waitFor();
    assert.equal(await page.getByTestId("rerun-failed").count(), 0);
    // The matrix legs are grouped under their job, and open on demand.
    const test = page.locator('[data-testid="job-node"][data-job="test"]');
    assert.equal(await test.getByTestId("job-leg").count(), 0);
    await test.getByTestId("job-group-toggle").click();
    assert.equal(await test.getByTestId("job-leg").count(), 2);
    // The annotation is listed at the top and the step summary rendered as text.
    await page.getByTestId("annotation").first().waitFor();
    assert.match((await page.getByTestId("annotations").textContent()) ?? "", /look at this warning/);
    const summary = page.getByTestId("step-summary").first();
    await summary.waitFor();
    assert.equal(await summary.locator("h2").textContent(), "Summary of the build");
    assert.match((await summary.textContent()) ?? "", /<img src=x onerror=window.__xss=3>/);
    assert.equal(await summary.locator("img, a[href^='javascript']").count(), 0);
    assert.equal(await page.evaluate("window.__xss"), undefined);
    await h.screenshot(page, "run-page");
    buildJob = (await run(ciRun)).jobs.find((j) => j.jobId === "build")?.id ?? 0;
    assert.ok(buildJob > 0);
    assertClean(page);
  });

  it("reads the log: ANSI colour, step sections, group folding, search and line links", async () => {
    assert.ok(buildJob > 0, "needs the first test's run");
    const page = await signedIn();
    await page.goto(`/jobs/${buildJob}/logs`);
    await page.locator('[data-testid="job-page"][data-log-complete="1"]').waitFor({ timeout: LONG });
    // Passed steps are folded: open them.
    const sectionOf = (step: string) =>
      page
        .locator('[data-testid="log-line"].log-section-head', { hasText: step })
        .getByTestId("section-toggle");
    await sectionOf("Colours").click();
    const red = page.locator('[data-testid="log-line"] .ansi-fg-1', { hasText: "red needle" });
    await red.waitFor();
    const colour = await page.evaluate(
      `getComputedStyle(document.querySelector('[data-testid="log-line"] .ansi-fg-1')).color`,
    );
    assert.equal(colour, "rgb(255, 123, 114)");
    // The section header shows the step's conclusion and duration.
    assert.match((await page.getByTestId("section-result").first().textContent()) ?? "", /success · [\d.]+s/);
    // The group is folded until opened.
    await sectionOf("Grouped").click();
    const inside = page.locator('[data-testid="log-line"]', { hasText: "inside the group" });
    const group = page.locator('[data-testid="log-line"].log-group-head', { hasText: /▸ Fold me$/ });
    await group.waitFor();
    assert.equal(await inside.count(), 0, "folded");
    await group.getByTestId("group-toggle").click();
    await inside.waitFor();
    await group.getByTestId("group-toggle").click();
    assert.equal(await inside.count(), 0, "folded again");
    // Search covers folded lines too.
    await page.getByTestId("log-search").fill("needle");
    await page.getByTestId("search-count").filter({ hasText: /of/ }).waitFor();
    const count = (await page.getByTestId("search-count").textContent()) ?? "";
    const total = Number(/of (\d+)/.exec(count)?.[1]);
    assert.ok(total >= 2, count);
    await page.getByTestId("search-next").click();
    assert.match((await page.getByTestId("search-count").textContent()) ?? "", /^2 of /);
    assert.equal(await page.locator(".current-match").count(), 1);
    await page.getByTestId("log-search").fill("inside the group");
    await page.locator(".current-match", { hasText: "inside the group" }).waitFor();
    await h.screenshot(page, "log-page");
    // A line link: #L3 highlights line 3 and the URL says so.
    await page.goto(`/jobs/${buildJob}/logs#L3`);
    const line3 = page.locator('[data-testid="log-line"][data-line="3"]');
    await line3.waitFor({ timeout: LONG });
    await page.locator('[data-testid="log-line"][data-line="3"].log-hl').waitFor();
    assert.equal(await page.locator(".log-hl").count(), 1);
    const link = page.locator('[data-testid="log-line"][data-line="3"] [data-testid="line-link"]');
    assert.equal(await link.getAttribute("href"), "#L3");
    assertClean(page);
  });

  it("opens an annotation's line from the run page", async () => {
    assert.ok(ciRun > 0, "needs the first test's run");
    const page = await signedIn();
    await page.goto(`/runs/${ciRun}`);
    await page.getByTestId("annotation-link").first().click();
    await page.locator(".log-hl", { hasText: "look at this warning" }).waitFor({ timeout: LONG });
    assert.match(new URL(page.url()).hash, /^#L\d+$/);
    assertClean(page);
  });

  it("cancels a running run", async () => {
    const { id } = await repoWith("slow", SLOW);
    const [slow] = (await triggerRuns(h.t, id)) as [number];
    const page = await signedIn();
    await page.goto(`/runs/${slow}`);
    await page.locator('[data-testid="job-node"][data-state="running"]').waitFor({ timeout: LONG });
    await mark(page);
    await page.getByTestId("cancel-run").click();
    await page.getByTestId("cancel-run-confirm").click();
    await page.locator('[data-testid="run-page"][data-run-state="completed"]').waitFor({ timeout: LONG });
    await page.locator('[data-testid="job-node"][data-state="cancelled"]').waitFor({ timeout: LONG });
    await notReloaded(page);
    assert.equal(await page.getByTestId("cancel-run").count(), 0, "nothing left to cancel");
    assert.equal((await run(slow)).conclusion, "cancelled");
    assertClean(page);
  });

  it("re-runs the failed jobs as a new attempt", async () => {
    const { id } = await repoWith("flaky", FAILING);
    const [flaky] = (await triggerRuns(h.t, id)) as [number];
    const first = await h.t.waitRun(flaky, LONG);
    const firstBad = first.jobs.find((j) => j.name === "bad");
    const firstGood = first.jobs.find((j) => j.name === "good");
    assert.ok(firstBad && firstGood);
    const page = await signedIn();
    await page.goto(`/runs/${flaky}`);
    await page.getByTestId("rerun-failed").click();
    await page.getByTestId("attempt-2").waitFor({ timeout: LONG });
    await page.locator('[data-testid="run-page"][data-run-state="completed"]').waitFor({ timeout: LONG });
    const done = await run(flaky);
    assert.equal(done.attempt, 2);
    assert.equal(done.conclusion, "failure", "the job fails again");
    const bad = done.jobs.find((j) => j.jobId === "bad");
    const good = done.jobs.find((j) => j.jobId === "good");
    assert.ok(bad && good);
    assert.notEqual(bad.id, firstBad.id, "the failed job ran again");
    assert.equal(good.reusedFrom, firstGood.id, "the passed job's result is kept");
    // The job's log page links to its earlier attempt, which shows that attempt's log.
    await page.goto(`/jobs/${bad.id}/logs`);
    await page.getByTestId("job-attempt-1").click();
    await page.waitForURL(new RegExp(`/jobs/${firstBad.id}/logs$`));
    await page.locator('[data-testid="job-page"][data-log-complete="1"]').waitFor({ timeout: LONG });
    await page.locator('[data-testid="log-line"]', { hasText: "this job fails" }).first().waitFor();
    assertClean(page);
  });

  it("approves an untrusted run that waits for a maintainer", async () => {
    const { id } = await repoWith("fork", NOWHERE);
    const [fork] = (await triggerRuns(h.t, id)) as [number];
    // The webhook path that makes a fork's run untrusted is tested in trust-tiers.test.ts; here
    // the run is put in that state directly (its job can reach no node, so it stays queued).
    await h.t.db.pool.query(
      `UPDATE runs SET trust_tier = 'untrusted', approval = 'required',
              approval_reason = 'first-time contributor from a fork' WHERE id = $1`,
      [fork],
    );
    const page = await signedIn();
    await page.goto(`/runs/${fork}`);
    const card = page.getByTestId("approval");
    await card.waitFor();
    assert.match((await card.textContent()) ?? "", /first-time contributor from a fork/);
    assert.match((await card.textContent()) ?? "", /maintainer/);
    assert.ok((await page.getByTestId("tier-untrusted").count()) >= 1, "untrusted is marked");
    await page.getByTestId("approve-run").click();
    await page.getByTestId("run-approved-by").waitFor();
    assert.equal(await page.getByTestId("approval").count(), 0);
    assert.equal(await page.getByTestId("run-approved-by").textContent(), "ada");
    assertClean(page);
  });

  it("reviews an environment deployment: who may, then approve", async () => {
    const { id } = await repoWith(
      "deploy",
      `name: Deploy\non: push\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: echo shipped\n`,
    );
    const env = await h.t.api("PUT", `/api/v1/repositories/${id}/environments/production`, {
      reviewers: ["ada"],
    });
    assert.ok(env.status < 300, env.text);
    await h.startAgent(); // (started by the first test already when the whole file runs)
    const [deploy] = (await triggerRuns(h.t, id)) as [number];
    const page = await signedIn();
    await page.goto(`/runs/${deploy}`);
    const item = page.getByTestId("deployment");
    await item.waitFor({ timeout: LONG });
    assert.match((await item.textContent()) ?? "", /production.*waiting/s);
    assert.match((await item.textContent()) ?? "", /ada/, "who may review");
    await page.getByTestId("deployment-approve-production").click();
    await page
      .locator('[data-testid="job-node"][data-job="ship"][data-state="success"]')
      .waitFor({ timeout: LONG });
    assert.match((await item.textContent()) ?? "", /approved by ada/);
    assertClean(page);
  });

  it("shows a hostile branch name, commit message and log line as text", async () => {
    // A signed GitHub push of a commit whose message is markup.
    const repo = makeRepo({ ".github/workflows/hostile.yml": XSS });
    repos.push(repo);
    const created = await h.t.api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
      name: "acme/hostile",
      cloneUrl: repo.dir,
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    execFileSync("git", ["checkout", "-q", "-b", "feature/markup"], { cwd: repo.dir });
    execFileSync(
      "git",
      [
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@x.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        XSS_COMMIT,
      ],
      { cwd: repo.dir },
    );
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
    const body = Buffer.from(
      JSON.stringify({
        ref: "refs/heads/feature/markup",
        before: "0".repeat(40),
        after: sha,
        created: true,
        forced: false,
        commits: [],
        head_commit: { id: sha, message: XSS_COMMIT },
        repository: { full_name: "acme/hostile", clone_url: repo.dir, default_branch: "main" },
        sender: { login: "mallory" },
        pusher: { name: "mallory" },
      }),
    );
    const res = await fetch(`${h.url}/api/v1/webhooks/github/${id}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", created.body.webhookSecret).update(body).digest("hex")}`,
      },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 202, text);
    const hostile = (JSON.parse(text) as { runs: Array<{ id: number }> }).runs[0]?.id ?? 0;
    assert.ok(hostile > 0, text);
    const done = await h.t.waitRun(hostile, LONG);
    // Sources refuse a ref with markup in it (src/sources/validate.ts), so a hostile branch name
    // cannot come in through a webhook: the page is shown one anyway, put in the database.
    await h.t.db.pool.query("UPDATE runs SET ref = $2 WHERE id = $1", [hostile, `refs/heads/${XSS_BRANCH}`]);
    assert.equal(done.conclusion, "success");
    const page = await signedIn();
    await page.goto(`/repos/${id}/runs`);
    const row = page.locator(`[data-testid="run-row"][data-run-id="${hostile}"]`);
    await row.waitFor();
    assert.match(
      (await row.textContent()) ?? "",
      new RegExp(XSS_COMMIT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    );
    assert.equal(await row.getByTestId("run-branch").textContent(), XSS_BRANCH);
    await h.screenshot(page, "runs-list-hostile-text");
    await page.goto(`/runs/${hostile}`);
    assert.equal(await page.getByTestId("run-title").textContent(), XSS_COMMIT);
    assert.equal(
      await page.locator('[data-testid="run-header"] [data-testid="run-branch"]').textContent(),
      XSS_BRANCH,
    );
    await page.getByTestId("job-link").first().click();
    await page.locator('[data-testid="job-page"][data-log-complete="1"]').waitFor({ timeout: LONG });
    await page.getByTestId("section-toggle").first().click();
    await page.locator('[data-testid="log-line"]', { hasText: XSS_LOG }).first().waitFor();
    assert.equal(await page.locator("main img, main svg:not(.dag-edges)").count(), 0);
    assert.equal(await page.evaluate("window.__xss"), undefined);
    assertClean(page);
  });

  it("filters the runs list by URL", async () => {
    const page = await signedIn();
    await page.goto("/runs");
    await page.getByTestId("runs-table").waitFor();
    assert.ok(
      (await page.getByTestId("run-row").count()) >= 5,
      "every run so far (ci, slow, flaky, fork, hostile)",
    );
    await h.screenshot(page, "runs-list");
    await page.goto("/runs?workflow=Flaky");
    await page.getByTestId("runs-table").waitFor();
    const names = await page.getByTestId("run-row").allTextContents();
    assert.ok(names.length >= 1);
    assert.ok(
      names.every((t) => t.includes("Flaky")),
      names.join(" | "),
    );
    assert.equal(await page.getByTestId("filter-workflow").inputValue(), "Flaky");
    await page.getByTestId("filter-workflow").fill("");
    await page.getByTestId("filter-status").selectOption("cancelled");
    await page.getByTestId("filter-apply").click();
    await page.waitForURL(/status=cancelled/);
    await page.locator('[data-testid="run-row"] [data-status="cancelled"]').first().waitFor();
    const statuses = await page.evaluate(
      `[...document.querySelectorAll('[data-testid="run-row"] [data-status]')].map((e) => e.getAttribute("data-status"))`,
    );
    assert.ok(
      (statuses as string[]).every((s) => s === "cancelled"),
      String(statuses),
    );
    assertClean(page);
  });

  it("shows a viewer the run without any button to change it, also on a phone", async () => {
    const vic = await h.createUser("vic");
    const flaky = (
      await h.t.api<Array<{ id: number; repositoryId: number; workflowName: string }>>("GET", "/api/v1/runs")
    ).body.find((r) => r.workflowName === "Flaky");
    assert.ok(flaky);
    const grant = await h.t.api("PUT", `/api/v1/repositories/${flaky.repositoryId}/members/vic`, {
      role: "viewer",
    });
    assert.ok(grant.status < 300, grant.text);
    const page = await h.newPage({ width: 375, height: 740 });
    await h.signIn(page, vic);
    await page.goto(`/runs/${flaky.id}`);
    await page.locator('[data-testid="run-page"][data-perms="loaded"]').waitFor();
    await page.locator('[data-testid="job-node"]').first().waitFor();
    for (const id of ["rerun-all", "rerun-failed", "cancel-run", "approve-run"])
      assert.equal(await page.getByTestId(id).count(), 0, `${id} absent for a viewer`);
    await h.screenshot(page, "run-page-viewer-mobile");
    await page.goto("/runs");
    await page.getByTestId("runs-table").waitFor();
    await h.screenshot(page, "runs-list-mobile");
    assertClean(page);
  });

  it("opens and scrolls a 50 MiB log (figures printed, not asserted)", async () => {
    const { id } = await repoWith(
      "big",
      `on: push\njobs:\n  big:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo small\n`,
    );
    const [bigRun] = (await triggerRuns(h.t, id)) as [number];
    const done = await h.t.waitRun(bigRun, LONG);
    const job = done.jobs[0]!;
    // ≈ 50 MiB: 10 240 chunks of 100 lines of 51 bytes, after the job's own log.
    const line = "x".repeat(30);
    await h.t.db.pool.query(
      `INSERT INTO log_chunks (job_id, attempt, seq, data, source, style)
       SELECT $1, $2, 100000 + g,
              (SELECT string_agg(lpad((g * 100 + i)::text, 12, '0') || ' big log ' || $3 || E'\\n', '')
                 FROM generate_series(0, 99) i),
              'step', 'log'
         FROM generate_series(1, 10240) g`,
      [job.id, job.attempt, line],
    );
    const bytes = await h.t.db.pool.query<{ n: string }>(
      "SELECT sum(octet_length(data))::text AS n FROM log_chunks WHERE job_id = $1",
      [job.id],
    );
    const page = await signedIn();
    const t0 = Date.now();
    await page.goto(`/jobs/${job.id}/logs`);
    await page.locator('[data-testid="job-page"][data-log-complete="1"]').waitFor({ timeout: 600_000 });
    await page.locator('[data-testid="log-line"]').first().waitFor();
    const opened = Date.now() - t0;
    const lines = Number(await page.getByTestId("log-scroll").getAttribute("data-lines"));
    assert.ok(lines > 1_000_000, `lines: ${lines}`);
    // Scroll to the middle and the end; each time until the row is painted.
    const scrollTo = async (fraction: number): Promise<number> => {
      const s = Date.now();
      await page.evaluate(`(() => {
        const el = document.querySelector('[data-testid="log-scroll"]');
        el.scrollTop = (el.scrollHeight - el.clientHeight) * ${fraction};
      })()`);
      // Checked at each frame by the page itself (waitForFunction would poll with eval(), which the
      // page's CSP refuses whenever the first check is not already true).
      await page.evaluate(`new Promise((resolve, reject) => {
        // A safety net only (the harness's two minutes per action), not a synchronisation.
        const stop = Date.now() + 120000;
        const check = () => {
          if (Date.now() > stop) return reject(new Error("the scrolled-to row was never painted"));
          const rows = document.querySelectorAll('[data-testid="log-line"]');
          const n = Number(rows[Math.floor(rows.length / 2)]?.getAttribute("data-line") ?? 0);
          if (n > ${Math.floor(lines * fraction * 0.9)}) resolve(true);
          else requestAnimationFrame(check);
        };
        check();
      })`);
      return Date.now() - s;
    };
    const middle = await scrollTo(0.5);
    const end = await scrollTo(1);
    const domRows = await page.locator('[data-testid="log-line"]').count();
    assert.ok(domRows < 500, `only the visible rows are in the DOM (${domRows})`);
    const s0 = Date.now();
    await page.getByTestId("log-search").fill("0000512345");
    await page
      .getByTestId("search-count")
      .filter({ hasText: /^1 of 1$/ })
      .waitFor({ timeout: 120_000 });
    const searched = Date.now() - s0;
    console.log(
      `50 MiB log: ${bytes.rows[0]?.n} bytes, ${lines} lines; opened in ${opened} ms; ` +
        `scroll to middle ${middle} ms, to end ${end} ms; search ${searched} ms; ${domRows} rows in the DOM`,
    );
    assertClean(page);
  });
});
