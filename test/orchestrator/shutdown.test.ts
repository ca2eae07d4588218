// Shutdown of the real service: the core stops before the HTTP server closes, so a log follower can
// still arrive in between. It must get its end at once: before, it waited for a job completion that
// no one would report any more, and the HTTP server's close (waiting for that stream) hung forever.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type RunView, type TestService } from "../helpers/service.js";

let t: TestService | undefined;
const repos: TempRepo[] = [];
after(async () => {
  await t?.stop();
  repos.forEach((r) => r.remove());
});

/** Resolves with what `p` gives, or rejects when it takes longer than a generous bound (a hang). */
function orHang<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hangs`)), 15_000);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

describe("service shutdown", () => {
  it("ends a log stream opened while the core is stopping, so the server can close", async () => {
    t = await startTestService();
    const repo = makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  wait:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    });
    repos.push(repo);
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/stop",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201, r.text);
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const runId = trig.body.runs[0]?.id ?? -1;
    // No node: the job waits in the queue and never completes.
    const jobId = await eventually(async () => {
      const run = await t!.api<RunView>("GET", `/api/v1/runs/${runId}`);
      return run.body.jobs[0]?.id;
    }, "the job to be queued");

    await t.service.orchestrator.stop(); // what service.stop() does first
    const res = await fetch(`${t.service.url}/api/v1/jobs/${jobId}/logs/stream`, {
      headers: { authorization: `Bearer ${t.service.adminToken ?? ""}` },
    });
    assert.equal(res.status, 200);
    const body = await orHang(res.text(), "the log stream");
    assert.match(body, /^event: end$/m);
    await orHang(t.stop(), "the service's stop");
    t = undefined;
  });
});
