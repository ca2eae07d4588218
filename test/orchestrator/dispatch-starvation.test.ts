// A full batch of jobs that cannot be placed (here: they want an image no node offers) at the head
// of the queue must not hide the jobs behind it. Before, every dispatch round claimed the same
// oldest batch, found it full, and went round again at once: the jobs behind it were never
// considered (and the dispatcher spun on the database).
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

async function addRepo(svc: TestService, name: string, workflow: string): Promise<number> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  const r = await svc.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: repo.dir });
  assert.equal(r.status, 201, r.text);
  const trig = await svc.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${r.body.id}/runs`,
    {},
  );
  assert.equal(trig.status, 201);
  return trig.body.runs[0]?.id ?? -1;
}

describe("dispatch", () => {
  it("places a job queued behind a full batch of jobs that wait for configuration", async () => {
    t = await startTestService({ dispatchBatch: 2 });
    const svc = t;
    const img = await svc.api("POST", "/api/v1/images", { name: "gpu", labels: ["gpu"] });
    assert.equal(img.status, 201, img.text);
    await svc.startAgent(await svc.addNode("node-s"));

    const blocked = await addRepo(
      svc,
      "acme/gpu",
      `on: push
jobs:
  train:
    strategy:
      matrix:
        n: [1, 2, 3]
    runs-on: gpu
    steps:
      - run: echo never
`,
    );
    await eventually(async () => {
      const run = await svc.api<RunView>("GET", `/api/v1/runs/${blocked}`);
      return run.body.jobs.length === 3 && run.body.jobs.some((j) => j.waitReason) ? true : undefined;
    }, "the gpu jobs to wait");

    const normal = await addRepo(
      svc,
      "acme/plain",
      "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo built\n",
    );
    const run = await svc.waitRun(normal, 30_000);
    assert.equal(run.conclusion, "success");
    const gpu = await svc.api<RunView>("GET", `/api/v1/runs/${blocked}`);
    assert.ok(gpu.body.jobs.every((j) => j.state === "queued" && j.waitReason));
  });
});
