// Shared set-up of the server-side trigger tests (schedule, workflow_run, repository_dispatch,
// merge_group): a fresh migrated database, a real git repository registered as acme/app, the
// real RunsService over them (its drivers recorded, not started: these tests are about which runs
// exist), and a logger whose lines the tests read.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import type { CoreConfig } from "../../src/orchestrator/config.js";
import { createRunsService, type CoreRunsService } from "../../src/orchestrator/runs.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";

export interface TriggerHarness {
  db: TestDatabase;
  repo: TempRepo;
  repositoryId: number;
  config: CoreConfig;
  runs: CoreRunsService;
  logger: Logger;
  /** Every line logged so far, parsed. */
  logLines(): Array<{ level: number; msg: string; [k: string]: unknown }>;
  /** Runs the service asked to drive. */
  driven: number[];
  /** Commits `files` on `branch` (main by default) of the source repository; returns the commit. */
  commit(files: Record<string, string>, branch?: string): string;
  runRows(): Promise<RunRow[]>;
  close(): Promise<void>;
}

export interface RunRow {
  id: number;
  event: string;
  ref: string;
  commit: string;
  trigger: string;
  actor: string;
  workflow_file: string;
  workflow_name: string;
  trust_tier: string;
  approval: string | null;
  payload: Record<string, unknown>;
}

export async function triggerHarness(files: Record<string, string>): Promise<TriggerHarness> {
  const db = await createTestDatabase();
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(join(tmpdir(), "airlock-triggers-"));
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO repositories (organization_id, name, clone_url, default_branch)
     SELECT id, 'acme/app', $1, 'main' FROM organizations WHERE name = 'default' RETURNING id`,
    [repo.dir],
  );
  const config: CoreConfig = {
    publicUrl: "https://ci.example.test",
    dataDir,
    leaseMs: 30_000,
    heartbeatMs: 5_000,
    maxAttempts: 3,
    logCapBytes: 1 << 20,
    dispatchBatch: 10,
    actionsUrl: "https://github.invalid",
  };
  let logged = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged += chunk.toString("utf8");
      done();
    },
  });
  const logger = pino({ level: "debug" }, sink);
  const driven: number[] = [];
  const runs = createRunsService({
    pool: db.pool,
    config,
    drive: (id) => driven.push(id),
    driveStored: (id) => driven.push(id),
    cancel: () => Promise.resolve(),
    gatesChanged: () => undefined,
    cancelJobs: () => Promise.resolve(),
    placementChanged: () => undefined,
  });
  const git = (...args: string[]): string =>
    execFileSync("git", args, { cwd: repo.dir, encoding: "utf8" }).trim();
  return {
    db,
    repo,
    repositoryId: Number(rows[0]?.id),
    config,
    runs,
    logger,
    driven,
    logLines: () =>
      logged
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { level: number; msg: string }),
    commit(changes, branch = "main") {
      git("checkout", "-q", ...(branch === "main" ? ["main"] : ["-B", branch, "main"]));
      for (const [path, content] of Object.entries(changes)) {
        mkdirSync(dirname(join(repo.dir, path)), { recursive: true });
        writeFileSync(join(repo.dir, path), content);
      }
      git("add", "-A");
      git(
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@airlock.invalid",
        "commit",
        "-qm",
        `change on ${branch}`,
      );
      const sha = git("rev-parse", "HEAD");
      git("checkout", "-q", "main");
      return sha;
    },
    async runRows() {
      const r = await db.pool.query<RunRow & { id: string }>(
        `SELECT id, event, ref, commit, trigger, actor, workflow_file, workflow_name, trust_tier, approval, payload
           FROM runs ORDER BY id`,
      );
      return r.rows.map((x) => ({ ...x, id: Number(x.id) }));
    },
    async close() {
      await db.drop();
      repo.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A workflow file with one job, `on:` as given (YAML text indented under `on:`). */
export function workflowFile(name: string, on: string): string {
  return `name: ${name}\non:\n${on}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n`;
}
