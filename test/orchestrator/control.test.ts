// Run control through the real service: cancelling stops the job's machine at once; a disabled
// node gets no new jobs and a waiting job says why; polling picks up new commits; the CLI works
// against the real API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
import { airlockBin, makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type RunView, type TestService } from "../helpers/service.js";

let t: TestService;
const repos: TempRepo[] = [];
const marker = `airlock-cancel-${process.pid}`;

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("node-c"));
});
after(async () => {
  await t.stop();
  repos.forEach((r) => r.remove());
});

async function addRepo(
  name: string,
  workflow: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: number; repo: TempRepo }> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name,
    cloneUrl: repo.dir,
    ...extra,
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.id, repo };
}

async function trigger(repoId: number): Promise<number> {
  const r = await t.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repoId}/runs`, {});
  assert.equal(r.status, 201, r.text);
  return r.body.runs[0]?.id ?? -1;
}

function markerAlive(): boolean {
  const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  return ps.split("\n").some((l) => l.startsWith(marker));
}

describe("run control", () => {
  it("cancelling a run stops its running machine and cancels the jobs still to come", async () => {
    const { id } = await addRepo(
      "acme/cancel",
      `on: push
jobs:
  long:
    runs-on: ubuntu-latest
    steps:
      - run: bash -c 'exec -a ${marker} sleep 60'
  after:
    needs: long
    runs-on: ubuntu-latest
    steps:
      - run: echo never
`,
    );
    const runId = await trigger(id);
    await eventually(() => Promise.resolve(markerAlive() ? true : undefined), "the job's sleep to start");
    const c = await t.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.equal(c.status, 202, c.text);
    await eventually(
      () => Promise.resolve(markerAlive() ? undefined : true),
      "the machine to be destroyed",
      5000,
    );
    const run = await t.waitRun(runId);
    assert.equal(run.conclusion, "cancelled");
    const byName = Object.fromEntries(run.jobs.map((j) => [j.name, j.conclusion]));
    // A dependant of a cancelled job is skipped, as its default if: success() is false.
    assert.deepEqual(byName, { long: "cancelled", after: "skipped" });
    // Once it has ended there is nothing left to cancel: a conflict, not a silent 202.
    const again = await t.api<{ error: { code: string; message: string } }>(
      "POST",
      `/api/v1/runs/${runId}/cancel`,
    );
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.code, "CONFLICT");
  });

  it("a disabled node takes no new job and the waiting job says why; enabling it lets the job run", async () => {
    const nodes = await t.api<Array<{ id: number; name: string }>>("GET", "/api/v1/nodes");
    const node = nodes.body.find((n) => n.name === "node-c");
    assert.ok(node);
    assert.equal((await t.api("POST", `/api/v1/nodes/${node.id}/disable`)).status, 200);
    const { id } = await addRepo(
      "acme/drain",
      `on: push
jobs:
  quick:
    runs-on: ubuntu-latest
    steps:
      - run: echo ran
`,
    );
    const runId = await trigger(id);
    const waiting = await eventually(async () => {
      const r = await t.api<RunView>("GET", `/api/v1/runs/${runId}`);
      const j = r.body.jobs?.[0];
      return j?.waitReason ? j : undefined;
    }, "a wait reason");
    assert.equal(waiting.state, "queued");
    assert.match(waiting.waitReason ?? "", /disabled/);
    assert.equal((await t.api("POST", `/api/v1/nodes/${node.id}/enable`)).status, 200);
    const run = await t.waitRun(runId);
    assert.equal(run.conclusion, "success");
  });

  it("polls repositories that cannot send webhooks", async () => {
    const { id, repo } = await addRepo(
      "acme/polled",
      `on: push
jobs:
  polled:
    runs-on: ubuntu-latest
    steps:
      - run: echo polled
`,
      { pollIntervalSeconds: 10 },
    );
    // The first poll builds the current head.
    const first = await eventually(async () => {
      const r = await t.api<RunView[]>("GET", `/api/v1/runs?repository=${id}`);
      return r.body.length > 0 ? r.body : undefined;
    }, "the first polled run");
    assert.equal(first.length, 1);
    execFileSync(
      "git",
      ["-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "second"],
      {
        cwd: repo.dir,
      },
    );
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
    const runs = await eventually(
      async () => {
        const r = await t.api<Array<RunView & { commit: string; title: string; workflowFile: string }>>(
          "GET",
          `/api/v1/runs?repository=${id}`,
        );
        return r.body.some((x) => x.commit === head) ? r.body : undefined;
      },
      "a run of the new commit",
      30_000,
    );
    assert.equal(runs.length, 2);
    // Titled by its commit's message, and named after its workflow, as a pushed run is.
    const polled = runs.find((x) => x.commit === head);
    assert.equal(polled?.title, "second");
    assert.equal(polled?.workflowFile, ".github/workflows/ci.yml");
  });

  it("the CLI lists, triggers and shows runs against the real API", async () => {
    const { id } = await addRepo(
      "acme/cli",
      `on: push
jobs:
  cli:
    runs-on: ubuntu-latest
    steps:
      - run: echo "from the cli"
`,
    );
    const env = {
      ...process.env,
      AIRLOCK_SERVER: t.service.url,
      AIRLOCK_TOKEN: t.service.adminToken ?? "",
      HOME: "/nonexistent",
    };
    // Asynchronous: the server under test lives in this process and must keep answering.
    const cli = async (...args: string[]): Promise<string> =>
      (await execFileAsync(process.execPath, [airlockBin, ...args], { env, encoding: "utf8" })).stdout;
    assert.match(await cli("orgs", "add", "acme-cli", "--max-jobs", "2"), /limit 2/);
    assert.match(await cli("orgs", "limit", "acme-cli", "none"), /limit none/);
    const orgs = JSON.parse(await cli("orgs", "list", "--json")) as Array<{
      name: string;
      maxConcurrentJobs: number | null;
    }>;
    assert.equal(orgs.find((o) => o.name === "acme-cli")?.maxConcurrentJobs, null);
    const inOrg = JSON.parse(
      await cli(
        "repos",
        "add",
        "acme-cli/app",
        "https://git.example.test/acme-cli/app.git",
        "--org",
        "acme-cli",
        "--json",
      ),
    ) as { id: number };
    const { rows } = await t.db.pool.query(
      "SELECT o.name FROM repositories r JOIN organizations o ON o.id = r.organization_id WHERE r.id = $1",
      [inOrg.id],
    );
    assert.equal(rows[0]?.name, "acme-cli");
    const repoList = await cli("repos", "list");
    assert.match(repoList, /acme\/cli/);
    const triggered = JSON.parse(await cli("runs", "trigger", String(id), "--wait", "--json")) as unknown;
    assert.ok(triggered);
    const runs = await t.api<Array<{ id: number; conclusion: string }>>(
      "GET",
      `/api/v1/runs?repository=${id}`,
    );
    assert.equal(runs.body[0]?.conclusion, "success");
    const shown = await cli("runs", "show", String(runs.body[0]?.id));
    assert.match(shown, /cli/);
    const run = await t.api<RunView>("GET", `/api/v1/runs/${runs.body[0]?.id}`);
    const logs = await cli("logs", String(run.body.jobs[0]?.id));
    assert.match(logs, /from the cli/);
    // Cancelling the finished run: one line saying so, exit 1, no stack trace.
    const finished = await execFileAsync(
      process.execPath,
      [airlockBin, "runs", "cancel", String(run.body.id)],
      {
        env,
        encoding: "utf8",
      },
    ).then(
      () => assert.fail("cancelling a finished run succeeded"),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(finished.code, 1);
    assert.equal(finished.stdout, "");
    assert.equal(
      finished.stderr,
      `airlock: run ${run.body.id} has already finished (success): nothing to cancel\n`,
    );
  });

  it("runs get the vars context: organization variables, overridden by the repository's", async () => {
    const { id } = await addRepo(
      "acme/vars",
      `on: push
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: echo "greeting=\${{ vars.GREETING }} target=\${{ vars.TARGET }} missing=[\${{ vars.NOPE }}]"
`,
    );
    const put = (path: string, value: string) => t.api("PUT", path, { value });
    assert.equal((await put("/api/v1/organizations/default/variables/GREETING", "hello")).status, 201);
    assert.equal((await put("/api/v1/organizations/default/variables/TARGET", "org")).status, 201);
    assert.equal((await put(`/api/v1/repositories/${id}/variables/TARGET`, "repo")).status, 201);
    const run = await t.waitRun(await trigger(id));
    assert.equal(run.conclusion, "success");
    const log = await t.api("GET", `/api/v1/jobs/${run.jobs[0]?.id}/logs`);
    assert.match(log.text, /greeting=hello target=repo missing=\[\]/);
  });

  it("reruns a run, and follows a running job's log live over server-sent events", async () => {
    const { id } = await addRepo(
      "acme/follow",
      `on: push
jobs:
  talk:
    runs-on: ubuntu-latest
    steps:
      - run: for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.2; done
`,
    );
    const first = await t.waitRun(await trigger(id));
    assert.equal(first.conclusion, "success");
    const rerun = await t.api<{ id: number; attempt: number }>("POST", `/api/v1/runs/${first.id}/rerun`);
    assert.equal(rerun.status, 201, rerun.text);
    assert.equal(rerun.body.id, first.id, "a re-run is a new attempt of the same run");
    assert.equal(rerun.body.attempt, 2);
    const jobId = await eventually(async () => {
      const r = await t.api<RunView>("GET", `/api/v1/runs/${rerun.body.id}`);
      return r.body.jobs?.[0]?.id;
    }, "the rerun's job");
    assert.notEqual(jobId, first.jobs[0]?.id, "the new attempt's job is a new job");
    const res = await fetch(`${t.service.url}/api/v1/jobs/${jobId}/logs/stream`, {
      headers: { authorization: `Bearer ${t.service.adminToken ?? ""}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const text = await res.text(); // the stream ends after `event: end`
    const ticks = [...text.matchAll(/tick (\d)/g)].map((m) => Number(m[1]));
    assert.deepEqual(ticks, [1, 2, 3, 4, 5]);
    assert.match(text, /event: end/);
    const again = await t.waitRun(rerun.body.id);
    assert.equal(again.conclusion, "success");
  });
});
