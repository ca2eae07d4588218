// Logs: stored once per (job, attempt, seq), capped per attempt with one visible marker, read back
// whole or after a position; lastStoredSeq tells a reconnecting agent where to resume. Every chunk
// keeps its source (Airlock's own line or the job's output).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  appendLog,
  appendLogs,
  completeJob,
  markLogTruncated,
  lastStoredSeq,
  readLog,
  readLogChunks,
  truncationMarker,
} from "../../src/queue/index.js";
import { cutToBytes, EMPTY_CHUNK_BYTES } from "../../src/queue/logs.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { assignedJob, jobRow, result, world, type World } from "./fixtures.js";

void describe("job logs", () => {
  let db: TestDatabase;
  let w: World;
  before(async () => {
    db = await createTestDatabase();
    w = await world(db.pool);
  });
  after(() => db.drop());

  void it("stores each seq once and reads the log back in order", async () => {
    const job = await assignedJob(db.pool, w, "log");
    assert.deepEqual(await appendLog(db.pool, job.id, job.attempt, 2, "two\n", 1000), {
      stored: true,
      truncated: false,
      data: "two\n",
    });
    assert.equal((await appendLog(db.pool, job.id, job.attempt, 1, "one\n", 1000)).stored, true);
    // Resent after a reconnect: not stored again, not counted again.
    assert.deepEqual(await appendLog(db.pool, job.id, job.attempt, 2, "two\n", 1000), {
      stored: false,
      truncated: false,
      data: "",
    });
    assert.equal(await readLog(db.pool, job.id), "one\ntwo\n");
    assert.equal(Number((await jobRow(db.pool, job.id)).log_bytes), 8);
    assert.deepEqual(await readLogChunks(db.pool, job.id, { attempt: job.attempt, seq: 1 }), [
      { attempt: job.attempt, seq: 2, data: "two\n", source: "step" },
    ]);
    assert.equal((await readLogChunks(db.pool, job.id)).length, 2);
    assert.equal(await readLog(db.pool, job.id + 1000), "");
  });

  void it("keeps each chunk's source: Airlock's lines are 'system', anything unsaid is 'step'", async () => {
    const job = await assignedJob(db.pool, w, "sources");
    await appendLog(db.pool, job.id, job.attempt, 1, "▶ build\n", 1000, "system");
    await appendLog(db.pool, job.id, job.attempt, 2, "  | Job success\n", 1000);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await appendLogs(
        client,
        job.id,
        job.attempt,
        [
          { seq: 3, data: "  | out\n", source: "step" },
          { seq: 4, data: "  error: boom\n", source: "system" },
          { seq: 5, data: "  | no source\n" },
        ],
        1000,
      );
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    await markLogTruncated(db.pool, job.id, job.attempt, 6, 1000);
    const sources = (await readLogChunks(db.pool, job.id)).map((c) => [c.seq, c.source]);
    assert.deepEqual(sources, [
      [1, "system"],
      [2, "step"],
      [3, "step"],
      [4, "system"],
      [5, "step"],
      [6, "system"],
    ]);
  });

  void it("keeps each chunk's style; an empty group-end chunk changes no text and costs EMPTY_CHUNK_BYTES", async () => {
    const job = await assignedJob(db.pool, w, "style");
    const put = await appendLogs(
      db.pool,
      job.id,
      job.attempt,
      [
        { seq: 1, data: "  ▸ Setup\n", style: "group" },
        { seq: 2, data: "  | x\n", style: "log" },
        { seq: 3, data: "", style: "group-end" },
      ],
      1000,
    );
    assert.deepEqual(
      [...put.entries()],
      [
        [1, "  ▸ Setup\n"],
        [2, "  | x\n"],
        [3, ""],
      ],
    );
    await appendLog(db.pool, job.id, job.attempt, 4, "✓ s success\n", 1000, "system", new Date(), "ok");
    await appendLog(db.pool, job.id, job.attempt, 5, "unstyled\n", 1000);
    await appendLog(db.pool, job.id, job.attempt, 6, "", 1000, "step", new Date(), "group-end");
    const styles = await db.pool.query<{ seq: number; style: string | null }>(
      "SELECT seq, style FROM log_chunks WHERE job_id = $1 ORDER BY seq",
      [job.id],
    );
    assert.deepEqual(
      styles.rows.map((r) => [r.seq, r.style]),
      [
        [1, "group"],
        [2, "log"],
        [3, "group-end"],
        [4, "ok"],
        [5, null],
        [6, "group-end"],
      ],
    );
    assert.equal(await readLog(db.pool, job.id), "  ▸ Setup\n  | x\n✓ s success\nunstyled\n");
    const bytes = Buffer.byteLength("  ▸ Setup\n  | x\n✓ s success\nunstyled\n");
    assert.equal(Number((await jobRow(db.pool, job.id)).log_bytes), bytes + 2 * EMPTY_CHUNK_BYTES);
    // A job ending groups in a loop hits the cap like any other output: the empty chunk that
    // crosses it carries the marker, and nothing is stored after.
    const looping = await assignedJob(db.pool, w, "style-cap");
    const cap = 5 * EMPTY_CHUNK_BYTES;
    const ends = Array.from({ length: 20 }, (_, i) => ({
      seq: i + 1,
      data: "",
      style: "group-end" as const,
    }));
    const stored = await appendLogs(db.pool, looping.id, looping.attempt, ends, cap);
    assert.equal(stored.size, 6, "five fit, the sixth carries the marker");
    assert.match(stored.get(6)!, /log truncated/);
    const after = await appendLogs(
      db.pool,
      looping.id,
      looping.attempt,
      [{ seq: 30, data: "", style: "group-end" }],
      cap,
    );
    assert.equal(after.size, 0, "a truncated log takes nothing more");
    const rows = await db.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM log_chunks WHERE job_id = $1",
      [looping.id],
    );
    assert.equal(Number(rows.rows[0]!.n), 6);
  });

  void it("cuts at the cap, stores one marker, then drops output while the job goes on", async () => {
    const job = await assignedJob(db.pool, w, "chatty");
    const cap = 20;
    assert.equal((await appendLog(db.pool, job.id, job.attempt, 1, "0123456789\n", cap)).stored, true); // 11 bytes
    const crossing = await appendLog(db.pool, job.id, job.attempt, 2, "abcd\nefghijklmn\n", cap);
    assert.deepEqual(crossing, { stored: true, truncated: true, data: `abcd\n${truncationMarker(cap)}` });
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.log_truncated, true);
    assert.deepEqual(await appendLog(db.pool, job.id, job.attempt, 3, "x\n", cap), {
      stored: false,
      truncated: true,
      data: "",
    });
    // The crossing chunk resent: still one marker.
    assert.equal((await appendLog(db.pool, job.id, job.attempt, 2, "abcd\nefghijklmn\n", cap)).stored, false);
    const log = await readLog(db.pool, job.id);
    assert.equal(log, `0123456789\nabcd\n${truncationMarker(cap)}`);
    assert.equal(log.split("log truncated").length, 2);
    // The job itself is unaffected and completes normally.
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), true);
    assert.deepEqual(await lastStoredSeq(db.pool, [{ jobId: job.id, attempt: job.attempt }]), [
      { jobId: job.id, attempt: job.attempt, seq: 2 },
    ]);
  });

  void it("counts bytes, not characters, and never splits a character", async () => {
    const job = await assignedJob(db.pool, w, "utf8");
    const cap = 10;
    const out = await appendLog(db.pool, job.id, job.attempt, 1, "ééééééé", cap); // 14 bytes, no newline
    assert.equal(out.data, `ééééé\n${truncationMarker(cap)}`);
    assert.equal(cutToBytes("aé", 2), "a\n");
    assert.equal(cutToBytes("ab\ncd", 4), "ab\n");
    assert.equal(cutToBytes("abc", 5), "abc");
    assert.equal(cutToBytes("abc", 0), "");
    assert.match(truncationMarker(50 * 1024 * 1024), /exceeded 50 MiB/);
  });

  void it("accepts output of a completed job's attempt but not of an unknown or stale attempt", async () => {
    const job = await assignedJob(db.pool, w, "late");
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), true);
    assert.equal((await appendLog(db.pool, job.id, job.attempt, 1, "late line\n", 1000)).stored, true);
    assert.equal((await appendLog(db.pool, job.id, job.attempt + 1, 1, "x\n", 1000)).stored, false);
    assert.equal((await appendLog(db.pool, 999_999, 1, 1, "x\n", 1000)).stored, false);
    assert.equal(await readLog(db.pool, job.id), "late line\n");
  });

  void it("reports the last stored seq per attempt, 0 when none", async () => {
    const job = await assignedJob(db.pool, w, "seq");
    for (const seq of [1, 2, 3, 5]) await appendLog(db.pool, job.id, job.attempt, seq, `${seq}\n`, 1000);
    assert.deepEqual(
      await lastStoredSeq(db.pool, [
        { jobId: job.id, attempt: job.attempt },
        { jobId: job.id, attempt: job.attempt + 1 },
        { jobId: 424242, attempt: 1 },
      ]),
      [
        { jobId: job.id, attempt: job.attempt, seq: 5 },
        { jobId: job.id, attempt: job.attempt + 1, seq: 0 },
        { jobId: 424242, attempt: 1, seq: 0 },
      ],
    );
    assert.deepEqual(await lastStoredSeq(db.pool, []), []);
  });

  void it("stores concurrent appends of one job once each, within the cap", async () => {
    const job = await assignedJob(db.pool, w, "race");
    const cap = 50;
    const line = "0123456789\n"; // 11 bytes: 4 fit, the 5th crosses the cap
    const attempts = Array.from({ length: 10 }, (_, i) =>
      appendLog(db.pool, job.id, job.attempt, (i % 8) + 1, line, cap),
    );
    const results = await Promise.all(attempts);
    const log = await readLog(db.pool, job.id);
    assert.equal(log.split("log truncated").length, 2);
    assert.equal(results.filter((r) => r.stored).length, 5);
    const row = await jobRow(db.pool, job.id);
    assert.equal(Number(row.log_bytes), Buffer.byteLength(log));
  });
});
