// A job whose output passes the log cap: the stored log ends with one visible marker, the job
// goes on and succeeds, and the whole log stays about the size of the cap.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";

const CAP = 4096;
let t: TestService;
let repo: TempRepo;

before(async () => {
  t = await startTestService({ logCapBytes: CAP });
  await t.startAgent(await t.addNode("node-cap"));
  repo = makeRepo({
    ".github/workflows/ci.yml": `on: push
jobs:
  loud:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1 2000); do echo "line $i of a very talkative job"; done
      - run: echo "the job went on" > "$RUNNER_TEMP/went-on" && cat "$RUNNER_TEMP/went-on"
`,
  });
});
after(async () => {
  await t.stop();
  repo.remove();
});

describe("log cap", () => {
  it("drops output past the cap with one visible marker while the job continues", async () => {
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/loud",
      cloneUrl: repo.dir,
    });
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const run = await t.waitRun(trig.body.runs[0]?.id ?? -1);
    assert.equal(run.conclusion, "success");
    const job = run.jobs[0];
    assert.deepEqual(
      job?.steps.map((s) => s.conclusion),
      ["success", "success"],
    );
    const log = (await t.api("GET", `/api/v1/jobs/${job?.id}/logs`)).text;
    assert.equal(log.match(/log truncated/g)?.length, 1, log.slice(-500));
    assert.ok(Buffer.byteLength(log) < CAP + 1024, `log is ${Buffer.byteLength(log)} bytes`);
    assert.ok(log.includes("line 1 of"), "output before the cap is kept");
    assert.ok(!log.includes("line 2000 of"), "output past the cap is dropped");
    const view = await t.api<{ logTruncated: boolean }>("GET", `/api/v1/jobs/${job?.id}`);
    assert.equal(view.body.logTruncated, true);
  });
});
