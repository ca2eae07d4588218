// A manual workflow_dispatch run on the server resolves its inputs with the same code as
// `airlock run` (resolveDispatch): typed `inputs`, defaults filled, github.event.inputs as text,
// and an unknown or invalid input refused (400 USAGE) before any run exists. Real service, real
// agent on the fake provisioner (host processes).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";

const WORKFLOW = `on:
  workflow_dispatch:
    inputs:
      size:
        type: choice
        options: [s, m]
        required: true
      flag:
        type: boolean
        default: true
      count:
        type: number
      note:
        default: none
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: |
          test "\${{ inputs.size }}" = m
          test "\${{ inputs.flag == false }}" = true
          test "\${{ github.event.inputs.flag }}" = false
          test "\${{ github.event.inputs.flag == false }}" = false
          test "\${{ inputs.count == 3 }}" = true
          test "\${{ inputs.note }}" = none
          test "\${{ github.event.inputs.note }}" = none
`;

let t: TestService;
let repo: TempRepo;
let repoId: number;

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("dispatcher"), { fake: true });
  repo = makeRepo({ ".github/workflows/ci.yml": WORKFLOW });
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/dispatch",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
});
after(async () => {
  await t.stop();
  repo.remove();
});

async function runCount(): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM runs");
  return Number(rows[0]?.n);
}

describe("manual workflow_dispatch inputs on the server", () => {
  it("types inputs, fills defaults and gives github.event.inputs as text", async () => {
    const r = await t.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repoId}/runs`, {
      event: "workflow_dispatch",
      inputs: { size: "m", flag: false, count: 3 },
    });
    assert.equal(r.status, 201, r.text);
    const runId = r.body.runs[0]?.id ?? -1;
    const { rows } = await t.db.pool.query<{ payload: { inputs: unknown } }>(
      "SELECT payload FROM runs WHERE id = $1",
      [runId],
    );
    assert.deepEqual(rows[0]?.payload.inputs, { size: "m", flag: "false", count: "3", note: "none" });
    const run = await t.waitRun(runId);
    assert.equal(run.conclusion, "success", JSON.stringify(run));
  });

  for (const [name, inputs] of [
    ["an unknown input", { size: "s", colour: "red" }],
    ["a choice not offered", { size: "xl" }],
    ["a boolean that is not one", { size: "s", flag: "yes" }],
    ["a required input missing", {}],
  ] as const) {
    it(`refuses ${name} before any run exists`, async () => {
      const before = await runCount();
      const r = await t.api<{ error: { code: string; message: string } }>(
        "POST",
        `/api/v1/repositories/${repoId}/runs`,
        { event: "workflow_dispatch", inputs },
      );
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, "USAGE");
      assert.match(r.body.error.message, /^\.github\/workflows\/ci\.yml: [^\n]+$/);
      assert.equal(await runCount(), before);
    });
  }
});
