// Rows the queue tests need: repositories, runs, nodes, images, flavours, and job inputs. Each
// helper inserts one row with unique names and returns its id.
import pg from "pg";
import type { JobDescription, JobResult } from "../../src/runner/types.js";
import { assignJobs, enqueueJobs, type NewJob, type Queryable } from "../../src/queue/index.js";

let counter = 0;
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++counter}`;

async function insertId(db: Queryable, sql: string, values: unknown[]): Promise<number> {
  const { rows } = await db.query<{ id: string }>(sql, values);
  return Number(rows[0]?.id);
}

export async function defaultOrganization(db: Queryable): Promise<number> {
  return insertId(db, "SELECT id FROM organizations WHERE name = 'default'", []);
}

export async function addOrganization(db: Queryable): Promise<number> {
  return insertId(db, "INSERT INTO organizations (name) VALUES ($1) RETURNING id", [unique("org")]);
}

export async function addRepository(db: Queryable, organizationId?: number): Promise<number> {
  const org = organizationId ?? (await defaultOrganization(db));
  return insertId(
    db,
    "INSERT INTO repositories (organization_id, name, clone_url, webhook_secret) VALUES ($1, $2, 'file:///x', 's') RETURNING id",
    [org, unique("repo")],
  );
}

export async function addRun(db: Queryable, repositoryId?: number): Promise<number> {
  const repo = repositoryId ?? (await addRepository(db));
  return insertId(
    db,
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger)
     VALUES ($1, (SELECT count(*) + 1 FROM runs WHERE repository_id = $1), 'push', 'refs/heads/main', 'abc', 'manual')
     RETURNING id`,
    [repo],
  );
}

export async function addNode(db: Queryable, name = unique("node")): Promise<number> {
  return insertId(
    db,
    "INSERT INTO nodes (name, cpus, memory_mb, disk_mb) VALUES ($1, 8, 16384, 100000) RETURNING id",
    [name],
  );
}

export async function addImage(db: Queryable): Promise<number> {
  return insertId(db, "INSERT INTO images (name) VALUES ($1) RETURNING id", [unique("image")]);
}

export async function addFlavour(
  db: Queryable,
  size = { cpus: 2, memoryMb: 4096, diskMb: 10000 },
): Promise<number> {
  return insertId(
    db,
    "INSERT INTO flavours (name, cpus, memory_mb, disk_mb) VALUES ($1, $2, $3, $4) RETURNING id",
    [unique("flavour"), size.cpus, size.memoryMb, size.diskMb],
  );
}

export function description(jobId = "build"): JobDescription {
  return {
    runId: "1",
    jobId,
    displayName: jobId,
    workflow: { file: ".github/workflows/ci.yml", name: "CI" },
    contexts: { github: {}, inputs: {}, vars: {}, secrets: {}, needs: {}, matrix: null, strategy: {} },
    env: [],
    defaults: {},
    steps: [],
    outputs: {},
    timeoutMinutes: 360,
    source: { repository: "file:///x", commit: "abc", ref: "refs/heads/main", repositoryName: "x" },
  };
}

export function newJob(runId: number, key: string, extra: Partial<NewJob> = {}): NewJob {
  return {
    runId,
    key,
    jobId: key,
    name: key,
    workflow: "ci.yml",
    matrix: null,
    labels: ["linux"],
    description: description(key),
    continueOnError: false,
    maxAttempts: 3,
    ...extra,
  };
}

export function result(conclusion: JobResult["conclusion"] = "success"): JobResult {
  return {
    conclusion,
    outputs: { out: "1" },
    durationMs: 20,
    steps: [
      {
        index: 0,
        id: "a",
        name: "A",
        stage: "main",
        outcome: "success",
        conclusion: "success",
        outputs: {},
        durationMs: 5,
      },
      {
        index: 1,
        id: "b",
        name: "B",
        stage: "main",
        outcome: conclusion,
        conclusion,
        outputs: { x: "y" },
        durationMs: 10,
      },
    ],
  };
}

/** Everything a placed job needs: a run, a node, an image and a flavour. */
export interface World {
  runId: number;
  nodeId: number;
  imageId: number;
  flavourId: number;
}

export async function world(db: Queryable): Promise<World> {
  return {
    runId: await addRun(db),
    nodeId: await addNode(db),
    imageId: await addImage(db),
    flavourId: await addFlavour(db),
  };
}

/** Enqueues one job and assigns it to the world's node in a transaction; returns id and attempt. */
export async function assignedJob(
  pool: pg.Pool,
  w: World,
  key: string,
  extra: Partial<NewJob> = {},
  leaseMs = 60_000,
): Promise<{ id: number; attempt: number }> {
  const [job] = await enqueueJobs(pool, [newJob(w.runId, key, extra)]);
  return assignQueued(pool, w, job!.id, leaseMs);
}

/** Assigns a job that is queued now. */
export async function assignQueued(
  pool: pg.Pool,
  w: World,
  jobId: number,
  leaseMs = 60_000,
): Promise<{ id: number; attempt: number }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const [a] = await assignJobs(
      client,
      [{ jobId, nodeId: w.nodeId, imageId: w.imageId, flavourId: w.flavourId }],
      leaseMs,
    );
    await client.query("COMMIT");
    if (!a) throw new Error(`job ${jobId} was not queued`);
    return { id: a.jobId, attempt: a.attempt };
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

export interface JobRow {
  state: string;
  conclusion: string | null;
  attempt: number;
  node_id: string | null;
  wait_reason: string | null;
  error: string | null;
  lease_expires_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  log_bytes: string;
  log_truncated: boolean;
  outputs: Record<string, string>;
}

export async function jobRow(db: Queryable, id: number): Promise<JobRow> {
  const { rows } = await db.query<JobRow>("SELECT * FROM jobs WHERE id = $1", [id]);
  if (!rows[0]) throw new Error(`no job ${id}`);
  return rows[0];
}

/** Makes a job's lease run out (instead of waiting for it). */
export async function expireLease(db: Queryable, id: number): Promise<void> {
  await db.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
}
