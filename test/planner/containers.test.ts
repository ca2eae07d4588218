// The planner puts `container:` and `services:` on the JobDescription as ContainerSpec values:
// image/options/volumes/ports evaluated with GitHub's contexts (matrix, vars, …), env and
// credentials as written (the node evaluates them with the released secrets: no secret value in
// the description), an empty image meaning "no container"; bad values fail the job in one line.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { executeRun, type InstanceRequest, type RunReport } from "../../src/planner/index.js";
import { parseWorkflow } from "../../src/workflow/index.js";
import { readRepo } from "../../src/git/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";

const repos: TempRepo[] = [];
after(() => repos.forEach((r) => r.remove()));

async function plan(yaml: string): Promise<{ report: RunReport; reqs: InstanceRequest[] }> {
  const repo = makeRepo({ ".github/workflows/w.yml": yaml });
  repos.push(repo);
  const parsed = parseWorkflow(".github/workflows/w.yml", yaml);
  assert.ok(parsed.workflow, JSON.stringify(parsed.problems));
  const reqs: InstanceRequest[] = [];
  const report = await executeRun({
    repo: await readRepo(repo.dir),
    fullName: "acme/repo",
    identity: { runId: "1", runNumber: 1, actor: "t", serverUrl: "https://github.com" },
    event: "push",
    payload: {},
    ref: "refs/heads/main",
    workflows: [parsed.workflow],
    inputs: {},
    vars: { PG: "postgres:16" },
    secrets: { PG_PASSWORD: "the-secret-value-123" },
    executor: {
      run(req) {
        reqs.push(req);
        return Promise.resolve({ conclusion: "success", outputs: {}, steps: [], durationMs: 0 });
      },
    },
    loadCalledWorkflow: () => Promise.reject(new Error("none")),
    reporter: { jobStarted() {}, jobEvent() {}, jobFinished() {} },
    signal: new AbortController().signal,
  });
  return { report, reqs };
}

describe("planner: container and services", () => {
  it("plans them per matrix instance; env and credentials travel as written, never a secret value", async () => {
    const { reqs } = await plan(`on: push
jobs:
  test:
    runs-on: x
    strategy: { matrix: { img: ["debian-12", ""] } }
    container:
      image: \${{ matrix.img }}
      options: --health-cmd "true" -e A=\${{ matrix.img }}
      volumes: [./cache:/cache]
      env: { N: 1 }
    services:
      db:
        image: \${{ vars.PG }}
        ports: [5432]
        env: { POSTGRES_PASSWORD: "\${{ secrets.PG_PASSWORD }}" }
        credentials: { username: me, password: "\${{ secrets.PG_PASSWORD }}" }
    steps: [{ run: "true" }]
`);
    assert.equal(reqs.length, 2);
    const [a, b] = reqs.map((r) => r.description);
    assert.deepEqual(a!.container, {
      image: "debian-12",
      env: { N: "1" },
      options: ["--health-cmd", "true", "-e", "A=debian-12"],
      volumes: [{ source: "./cache", target: "/cache", readOnly: false }],
    });
    assert.equal(b!.container, undefined, "an empty image: no container");
    assert.deepEqual(a!.services, {
      db: {
        image: "postgres:16",
        env: { POSTGRES_PASSWORD: "${{ secrets.PG_PASSWORD }}" },
        options: [],
        volumes: [],
        ports: ["5432"],
        credentials: { username: "me", password: "${{ secrets.PG_PASSWORD }}" },
      },
    });
    const text = JSON.stringify({ container: a!.container, services: a!.services });
    assert.ok(!text.includes("the-secret-value-123"));
  });

  for (const [what, yaml, why] of [
    ["a service name that is not a DNS label", "services: { my_db: { image: p } }", /DNS label/],
    [
      "options with an unterminated quote",
      'container: { image: a, options: "--health-cmd \'x" }',
      /unterminated/,
    ],
    [
      "a volume leaving the workspace",
      "container: { image: a, volumes: ['../x:/x'] }",
      /inside the workspace/,
    ],
    [
      "a port bound to a host address",
      "services: { db: { image: p, ports: ['0.0.0.0:5432:5432'] } }",
      /port/,
    ],
  ] as const) {
    it(`fails the job before it runs for ${what}`, async () => {
      const { report, reqs } = await plan(
        `on: push\njobs:\n  j:\n    runs-on: x\n    ${yaml}\n    steps: [{ run: "true" }]\n`,
      );
      assert.equal(reqs.length, 0);
      const job = report.jobs[0]!;
      assert.equal(job.conclusion, "failure");
      assert.match(job.error ?? "", why);
      assert.ok(!(job.error ?? "").includes("\n"));
    });
  }
});
