// End-to-end on a server run (orchestrator, real PostgreSQL, an agent on the REAL container
// provisioner) pulling from a REAL registry (docker-registry on loopback, TLS, htpasswd): the job's
// `container:` and a `services:` entry are private images whose `credentials:` read repository
// secrets. Those secrets reach the node sealed and are released for the machine's id just before
// the pull (the release stays one-time, bound to that machine): the job runs in its container,
// reaches its service, and no log, table or job description holds the password. With a wrong
// password the job fails with the registry's refusal in one line, the password nowhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createContainerProvisioner, type Provisioner } from "../../src/provisioners/index.js";
import {
  buildFromBase,
  ensureBaseImage,
  PODMAN_GLOBAL,
  REGISTRY_BIN,
  startRegistry,
  type TestRegistry,
} from "../helpers/registry.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository, startTestService, triggerRuns, type TestService } from "../helpers/service.js";

const skip =
  process.getuid?.() !== 0
    ? "needs root (rootful podman)"
    : !existsSync(REGISTRY_BIN)
      ? "docker-registry is not installed (scripts/ensure-system.sh installs it)"
      : false;

const tag = randomBytes(4).toString("hex");
const JOB = `airlock-test/job:${tag}`;
const SERVICE = `airlock-test/web:${tag}`;
const MARKER = `pulled-from-the-registry-${tag}`;
const WRONG = `wrong-Password-${tag}`;

const workflow = `on: push
jobs:
  private:
    runs-on: ubuntu-latest
    container:
      image: ${JOB}
      credentials:
        username: \${{ secrets.REG_USER }}
        password: \${{ secrets.REG_PASS }}
    services:
      web:
        image: ${SERVICE}
        credentials:
          username: \${{ secrets.REG_USER }}
          password: \${{ secrets.REG_PASS }}
    steps:
      - run: |
          cat /etc/airlock-registry-marker
          # No health check: the service starts in the background, so the job polls for it.
          for i in $(seq 600); do curl -sf http://web:8000/hello >/dev/null && break; sleep 0.1; done
          echo "service says $(curl -s --max-time 20 http://web:8000/hello)"
`;

let reg: TestRegistry;
let t: TestService;
let baseDir: string;
let prov: Provisioner;
const repos: TempRepo[] = [];
const localTags = [`localhost/airlock-test/job:${tag}`, `localhost/airlock-test/web:${tag}`];

before(
  async () => {
    if (skip) return;
    reg = await startRegistry();
    await ensureBaseImage();
    reg.push(
      buildFromBase(localTags[0]!, ["COPY marker /etc/airlock-registry-marker"], { marker: `${MARKER}\n` }),
      JOB,
    );
    reg.push(
      buildFromBase(
        localTags[1]!,
        [
          "COPY hello /srv/hello",
          'HEALTHCHECK --interval=1s --timeout=5s --retries=60 CMD ["python3", "-c", "import urllib.request as u; u.urlopen(\'http://127.0.0.1:8000/hello\')"]',
          'CMD ["python3", "-m", "http.server", "8000", "--bind", "127.0.0.1", "--directory", "/srv"]',
        ],
        { hello: "hello from a private service" },
      ),
      SERVICE,
    );
    t = await startTestService();
    // The default image's jobs go to container machines on this node.
    await t.db.pool.query("UPDATE images SET provisioner = 'container' WHERE name = 'debian-12'");
    baseDir = await mkdtemp(join(tmpdir(), "airlock-e2e-reg-"));
    prov = createContainerProvisioner({
      baseDir,
      diskPool: { warm: 0 },
      registry: { address: reg.host, certDir: reg.certDir },
    });
    await t.startAgent(await t.addNode("node-registry"), { provisioners: { container: prov } });
  },
  { timeout: 600_000 },
);
after(async () => {
  if (skip) return;
  await t?.stop(); // stops the agent and closes the provisioner
  repos.forEach((r) => r.remove());
  for (const ref of [...localTags, `${reg.host}/${JOB}`, `${reg.host}/${SERVICE}`])
    spawnSync("podman", [...PODMAN_GLOBAL, "rmi", ref], { stdio: "ignore" });
  await reg?.stop();
  if (baseDir) await rm(baseDir, { recursive: true, force: true });
});

async function runWith(name: string, password: string) {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  const repoId = await addRepository(t, name, repo.dir);
  for (const [k, v] of [
    ["REG_USER", reg.username],
    ["REG_PASS", password],
  ] as const) {
    const r = await t.api("PUT", `/api/v1/repositories/${repoId}/secrets/${k}`, { value: v });
    assert.equal(r.status, 201, r.text);
  }
  const [runId] = await triggerRuns(t, repoId);
  const run = await t.waitRun(runId!, 300_000);
  const job = run.jobs[0]!;
  const log = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
  return { run, job, log };
}

async function nothingStoredHolds(value: string): Promise<void> {
  for (const table of ["jobs", "runs", "log_chunks", "steps", "audit_log", "job_secret_releases"]) {
    const dump = JSON.stringify((await t.db.pool.query(`SELECT * FROM ${table}`)).rows);
    assert.ok(!dump.includes(value), `${table} holds the registry password`);
  }
}

describe("private registry images on a server run", { skip }, () => {
  it(
    "container: and services: pulled with credentials from the job's secrets",
    { timeout: 400_000 },
    async () => {
      const { run, job, log } = await runWith("default/registry-app", reg.password);
      assert.equal(run.conclusion, "success", log);
      assert.ok(log.includes(MARKER), log);
      assert.ok(log.includes("service says hello from a private service"), log);
      assert.ok(!log.includes(reg.password), log);
      await nothingStoredHolds(reg.password);
      const rel = await t.db.pool.query<{ machine: string | null }>(
        "SELECT machine FROM job_secret_releases WHERE job_id = $1",
        [job.id],
      );
      assert.match(rel.rows[0]?.machine ?? "", /^ctr-/, "released once, for the job's container machine");
    },
  );

  it("a wrong password fails the job in one line, naming no password", { timeout: 400_000 }, async () => {
    const { run, log } = await runWith("default/registry-wrong", WRONG);
    assert.equal(run.conclusion, "failure", log);
    const line = log.split("\n").find((l) => l.includes("the registry refused the credentials"));
    assert.ok(line, log);
    assert.ok(line.includes(`${reg.host}/${JOB}`), line);
    assert.ok(!log.includes(WRONG) && !log.includes(reg.password), log);
    await nothingStoredHolds(WRONG);
  });
});
