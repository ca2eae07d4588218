// The baseline of bench:dispatch: the same queue operations the orchestrator uses (enqueueJobs one
// job per call as the run drivers do, claimQueuedJobs + assignJobs in one transaction per batch as
// the dispatcher does, acceptJob per job as the agent hub does), driven directly over one pool of
// the same size, pipelined, without planner, scheduler, WebSocket or agents. It is the floor the
// database itself sets on the same machine.
import pg from "pg";
import { acceptJob, assignJobs, claimQueuedJobs, enqueueJobs } from "../../src/queue/index.js";
import type { JobDescription } from "../../src/runner/index.js";
import type { JobTimes } from "./dispatch-phase.js";

export interface RawResult {
  spanMs: number;
  times: JobTimes[];
}

const LEASE_MS = 30_000;

/** Runs on a database a dispatch phase used (its repository, nodes, image and flavour exist). */
export async function rawQueueBaseline(
  databaseUrl: string,
  jobs: number,
  o: { poolSize: number; batch: number },
): Promise<RawResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: o.poolSize + 1 });
  // pool.end() resolves before its sockets close; the server's shutdown must not crash us then.
  pool.on("error", () => undefined);
  try {
    const meta = await pool.query<{ run: string; description: JobDescription }>(
      `SELECT run_id AS run, description FROM jobs WHERE description IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    const sample = meta.rows[0];
    if (!sample) throw new Error("no job to copy a description from");
    const { rows: runRows } = await pool.query<{ id: string }>(
      `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, workflow_file, workflow_name)
       SELECT repository_id, (SELECT max(number) + 1 FROM runs), event, ref, commit, 'manual', 'raw', 'raw'
         FROM runs WHERE id = $1 RETURNING id`,
      [sample.run],
    );
    const runId = Number(runRows[0]!.id);
    const nodes = (await pool.query<{ id: string }>(`SELECT id FROM nodes ORDER BY id`)).rows.map((r) =>
      Number(r.id),
    );
    const imageId = Number((await pool.query<{ id: string }>(`SELECT id FROM images LIMIT 1`)).rows[0]!.id);
    const flavourId = Number(
      (await pool.query<{ id: string }>(`SELECT id FROM flavours LIMIT 1`)).rows[0]!.id,
    );

    let nextEnqueue = 0;
    let accepted = 0;
    const toAccept: Array<{ jobId: number; attempt: number }> = [];
    const waiters: Array<() => void> = [];
    const enqueueWorker = async (): Promise<void> => {
      while (nextEnqueue < jobs) {
        const i = nextEnqueue++;
        await enqueueJobs(pool, [
          {
            runId,
            key: `raw#t#${i}`,
            jobId: "t",
            name: `t (${i})`,
            workflow: "raw",
            matrix: { i },
            labels: ["ubuntu-latest"],
            description: sample.description,
            continueOnError: false,
            maxAttempts: 3,
          },
        ]);
      }
    };
    const dispatcher = async (): Promise<void> => {
      let assignedCount = 0;
      let n = 0;
      while (assignedCount < jobs) {
        const client = await pool.connect();
        let got: Array<{ jobId: number; attempt: number }>;
        try {
          await client.query("BEGIN");
          const claimed = await claimQueuedJobs(client, o.batch);
          got = await assignJobs(
            client,
            claimed.map((c) => ({ jobId: c.id, nodeId: nodes[n++ % nodes.length]!, imageId, flavourId })),
            LEASE_MS,
          );
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
        assignedCount += got.length;
        toAccept.push(...got);
        for (const w of waiters.splice(0)) w();
        if (got.length === 0) await new Promise((r) => setTimeout(r, 1));
      }
    };
    const acceptWorker = async (): Promise<void> => {
      while (accepted < jobs) {
        const ref = toAccept.shift();
        if (!ref) {
          await new Promise<void>((r) => waiters.push(r));
          continue;
        }
        await acceptJob(pool, ref.jobId, ref.attempt, LEASE_MS);
        accepted++;
      }
      for (const w of waiters.splice(0)) w();
    };
    // The pool is shared as in the service: enqueuers and acceptors each take half of it.
    const half = Math.max(1, Math.floor(o.poolSize / 2));
    await Promise.all([
      ...Array.from({ length: half }, enqueueWorker),
      dispatcher(),
      ...Array.from({ length: half }, acceptWorker),
    ]);
    const { rows } = await pool.query<{ q: number; a: number; s: number }>(
      `SELECT extract(epoch FROM queued_at) * 1000 AS q, extract(epoch FROM assigned_at) * 1000 AS a,
              extract(epoch FROM started_at) * 1000 AS s FROM jobs WHERE run_id = $1`,
      [runId],
    );
    const times = rows.map((x) => ({ queued: Number(x.q), assigned: Number(x.a), started: Number(x.s) }));
    const first = Math.min(...times.map((t) => t.queued));
    const last = Math.max(...times.map((t) => t.started));
    return { spanMs: last - first, times };
  } finally {
    await pool.end();
  }
}
