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
  /** What differs between the job's archive and the replica's; null when there is nothing to compare. */
  diff: ArchiveDiff | null;
  /** One line when the diff could not be made (no artifact from the replica, an unsafe archive). */
  note: string | null;
}

async function diffBlobs(d: CorroborationDeps, a: string, b: string): Promise<ArchiveDiff> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-mismatch-"));
  try {
    const write = async (sha: string, file: string): Promise<string> => {
      const r = await d.store.get(sha);
      await pipeline(r.stream, createWriteStream(join(dir, file), { mode: 0o600 }));
      return join(dir, file);
    };
    return await diffArchives(await write(a, "a"), await write(b, "b"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Records the reports, marks the run and flags the nodes (idempotent per artifact and replica). */
export async function recordMismatch(
  d: CorroborationDeps,
  run: { runId: number; repositoryId: number },
  name: string,
  builds: readonly Build[],
  differing: readonly Build[],
): Promise<void> {
  const own = builds[0]!;
  const mine = own.artifacts.get(name)!;
  const summary = builds.map((b) => ({
    job: b.jobId,
    node: b.node,
    operator: b.operator,
    workerTrust: b.trusted ? ("trusted" as const) : ("untrusted" as const),
    sha256: b.artifacts.get(name)?.sha256 ?? null,
  }));
  for (const other of differing) {
    const theirs = other.artifacts.get(name);
    let diff: ArchiveDiff | null = null;
    let note: string | null = null;
    if (!theirs) note = `the rebuild succeeded without an artifact named "${name}"`;
    else {
      try {
        diff = await diffBlobs(d, mine.sha256, theirs.sha256);
      } catch (err) {
        note = `the archives could not be compared: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const report: MismatchReport = { name, builds: summary, diff, note };
    await d.db.query(
      `INSERT INTO artifact_mismatches (repository_id, run_id, artifact_id, replica_job_id, replica_artifact_id, name, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (artifact_id, replica_job_id) DO NOTHING`,
      [run.repositoryId, run.runId, mine.id, other.jobId, theirs?.id ?? null, name, JSON.stringify(report)],
    );
  }
  await d.db.query(
    `UPDATE runs SET artifact_mismatch_at = coalesce(artifact_mismatch_at, now()) WHERE id = $1`,
    [run.runId],
  );
  const reason = `builds of artifact "${name}" of run ${run.runId} differ`.slice(0, 500);
  const nodes = [...new Set(builds.flatMap((b) => (b.nodeId === null ? [] : [b.nodeId])))];
  const { rows } = await d.db.query<{ id: string; name: string }>(
    `UPDATE nodes SET flagged_at = now(), flag_reason = $2 WHERE id = ANY($1::bigint[]) RETURNING id, name`,
    [nodes, reason],
  );
  for (const n of rows)
    await appendAudit(d.db, {
      actor: { kind: "system" },
      action: "node.flagged",
      object: { kind: "node", id: n.id },
      details: { node: n.name, reason },
    });
}

/** The reports of a run's mismatches, oldest first. */
export async function runMismatches(
  db: CorroborationDeps["db"],
  runId: number,
): Promise<
  Array<
    {
      id: number;
      artifactId: number;
      replicaJobId: number;
      replicaArtifactId: number | null;
      createdAt: Date;
    } & MismatchReport
  >
> {
  const { rows } = await db.query<{
    id: string;
    artifact_id: string;
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
    artifactId: Number(r.artifact_id),
    replicaJobId: Number(r.replica_job_id),
    replicaArtifactId: r.replica_artifact_id === null ? null : Number(r.replica_artifact_id),
    createdAt: r.created_at,
    ...r.report,
  }));
}
