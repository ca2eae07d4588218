// What the operator gets when builds disagree: a report per differing build (which nodes and
// operators built what digest, and what differs inside the two archives: entries only one side
// has, changed entries, and the first differing bytes, via diffArchives), the run marked, and every
// node that built the artifact flagged. Flagging is a note for a person, never a score: the node
// keeps its work until an administrator looks (`airlock nodes unflag`). The archives are hostile
// bytes: diffArchives reads them under the safe-archive limits and a refusal is reported as such.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { diffArchives, type ArchiveDiff } from "../archive/index.js";
import { appendAudit } from "../../audit/index.js";
import type { Build, CorroborationDeps } from "./evaluate.js";

export interface MismatchReport {
  name: string;
  builds: Array<{
    job: number;
    node: string | null;
    operator: string | null;
    workerTrust: "trusted" | "untrusted";
    sha256: string | null;
  }>;
  /**
   * What differs between the job's archive and the replica's, bounded (LISTED paths per list,
   * `counts` the totals); null until compared, or when there is nothing to compare.
   */
  diff: (ArchiveDiff & { counts: { onlyInA: number; onlyInB: number; changed: number } }) | null;
  /** One line when the diff could not be made (no artifact from the replica, an unsafe archive). */
  note: string | null;
}

/** A report whose archive diff is still to be made: its row and the two blobs. */
export interface PendingDiff {
  reportId: number;
  a: string;
  b: string;
}

/** Paths kept per list, and characters per path: a hostile archive cannot make the report huge. */
const LISTED = 100;
const PATH_CHARS = 500;
/** At most this many entries per archive are read for a report (ARCHIVE_REJECTED past it). */
const DIFF_LIMITS = { maxEntries: 20_000 };

const cut = (p: string): string => (p.length > PATH_CHARS ? `${p.slice(0, PATH_CHARS)}…` : p);

export function boundedDiff(diff: ArchiveDiff): NonNullable<MismatchReport["diff"]> {
  return {
    identical: diff.identical,
    onlyInA: diff.onlyInA.slice(0, LISTED).map(cut),
    onlyInB: diff.onlyInB.slice(0, LISTED).map(cut),
    changed: diff.changed.slice(0, LISTED).map((c) => ({
      path: cut(c.path),
      a: { ...c.a, path: cut(c.a.path), ...(c.a.linkTarget ? { linkTarget: cut(c.a.linkTarget) } : {}) },
      b: { ...c.b, path: cut(c.b.path), ...(c.b.linkTarget ? { linkTarget: cut(c.b.linkTarget) } : {}) },
    })),
    ...(diff.firstDifference
      ? { firstDifference: { ...diff.firstDifference, path: cut(diff.firstDifference.path) } }
      : {}),
    counts: { onlyInA: diff.onlyInA.length, onlyInB: diff.onlyInB.length, changed: diff.changed.length },
  };
}

async function diffBlobs(d: CorroborationDeps, a: string, b: string): Promise<ArchiveDiff> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-mismatch-"));
  try {
    const write = async (sha: string, file: string): Promise<string> => {
      const r = await d.store.get(sha);
      await pipeline(r.stream, createWriteStream(join(dir, file), { mode: 0o600 }));
      return join(dir, file);
    };
    return await diffArchives(await write(a, "a"), await write(b, "b"), DIFF_LIMITS);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One archive diff at a time in this process: each reads two whole archives. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes the archive diff of a report recorded earlier and stores it (bounded); a diff that cannot
 * be made leaves a one-line note instead. Never throws: the verdict stands either way.
 */
export function fillReport(d: CorroborationDeps, p: PendingDiff): Promise<void> {
  const next = queue.then(async () => {
    let update: { diff: MismatchReport["diff"]; note: string | null };
    try {
      update = { diff: boundedDiff(await diffBlobs(d, p.a, p.b)), note: null };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      update = { diff: null, note: `the archives could not be compared: ${why}`.slice(0, 500) };
    }
    await d.db
      .query(`UPDATE artifact_mismatches SET report = report || $2::jsonb WHERE id = $1`, [
        p.reportId,
        JSON.stringify(update),
      ])
      .catch(() => undefined);
  });
  queue = next.catch(() => undefined);
  return next.catch(() => undefined);
}

/**
 * Records a report per differing build (idempotent per artifact and rebuild: only new ones are
 * returned, their diffs to be made), marks the run and, when a report is new, flags every node
 * that built the artifact.
 */
export async function recordMismatch(
  d: CorroborationDeps,
  run: { runId: number; repositoryId: number },
  name: string,
  builds: readonly Build[],
  differing: readonly Build[],
): Promise<PendingDiff[]> {
  const own = builds[0]!;
  const mine = own.artifacts.get(name)!;
  const summary = builds.map((b) => ({
    job: b.jobId,
    node: b.node,
    operator: b.operator,
    workerTrust: b.trusted ? ("trusted" as const) : ("untrusted" as const),
    sha256: b.artifacts.get(name)?.sha256 ?? null,
  }));
  const pending: PendingDiff[] = [];
  let added = 0;
  for (const other of differing) {
    const theirs = other.artifacts.get(name);
    const report: MismatchReport = {
      name,
      builds: summary,
      diff: null,
      note: theirs ? "comparing the archives" : `the rebuild succeeded without an artifact named "${name}"`,
    };
    const { rows } = await d.db.query<{ id: string }>(
      `INSERT INTO artifact_mismatches (repository_id, run_id, artifact_id, replica_job_id, replica_artifact_id, name, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (artifact_id, replica_job_id) DO NOTHING RETURNING id`,
      [run.repositoryId, run.runId, mine.id, other.jobId, theirs?.id ?? null, name, JSON.stringify(report)],
    );
    if (!rows[0]) continue;
    added += 1;
    if (theirs) pending.push({ reportId: Number(rows[0].id), a: mine.sha256, b: theirs.sha256 });
  }
  if (added === 0) return pending;
  await d.db.query(
    `UPDATE runs SET artifact_mismatch_at = coalesce(artifact_mismatch_at, now()) WHERE id = $1`,
    [run.runId],
  );
  const reason = `builds of artifact "${name}" of run ${run.runId} differ`.slice(0, 500);
  const nodes = [...new Set(builds.flatMap((b) => (b.nodeId === null ? [] : [b.nodeId])))];
  const flagged = await d.db.query<{ id: string; name: string }>(
    `UPDATE nodes SET flagged_at = now(), flag_reason = $2 WHERE id = ANY($1::bigint[]) RETURNING id, name`,
    [nodes, reason],
  );
  for (const n of flagged.rows)
    await appendAudit(d.db, {
      actor: { kind: "system" },
      action: "node.flagged",
      object: { kind: "node", id: n.id },
      details: { node: n.name, reason },
    });
  return pending;
}

/** The reports of a run's mismatches, oldest first. */
export async function runMismatches(
  db: CorroborationDeps["db"],
  runId: number,
): Promise<
  Array<
    {
      id: number;
      artifactId: number | null;
      replicaJobId: number;
      replicaArtifactId: number | null;
      createdAt: Date;
    } & MismatchReport
  >
> {
  const { rows } = await db.query<{
    id: string;
    artifact_id: string | null;
    replica_job_id: string;
    replica_artifact_id: string | null;
    report: MismatchReport;
    created_at: Date;
  }>(
    `SELECT id, artifact_id, replica_job_id, replica_artifact_id, report, created_at
       FROM artifact_mismatches WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    artifactId: r.artifact_id === null ? null : Number(r.artifact_id),
    replicaJobId: Number(r.replica_job_id),
    replicaArtifactId: r.replica_artifact_id === null ? null : Number(r.replica_artifact_id),
    createdAt: r.created_at,
    ...r.report,
  }));
}
