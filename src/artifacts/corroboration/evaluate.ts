// Independent rebuilds, step 2: the verdict. Each time a replica finishes, every artifact of the
// job it rebuilds is compared, by digest, with what each successful build uploaded under that name:
//   any build differs (other bytes, or no artifact of that name) → `mismatch`, for good: the
//     artifact is quarantined (jobs no longer see it, it is never promoted), the run is marked,
//     every node that built it is flagged for the operator, and a report of what differs is kept;
//   else a trusted worker built the same bytes → `trusted` (also when an untrusted worker built
//     it first: confirmed later);
//   else at least max(2, agree) builds by different operators gave the same bytes → `corroborated`;
//   else `unverified`.
// Operators are told apart by OPERATOR_KEY (src/queue/claim.ts). Each build's worker trust and
// operator are its node's as recorded when the build was assigned (migration 039), never as an
// administrator set them since: a node made trusted later does not make an untrusted build a
// trusted worker's, and a renamed operator does not make two builds of one party independent. A
// replica that failed or was lost casts no vote. The provenance is signed again with every build.
import { appendAudit } from "../../audit/index.js";
import { assignedNode } from "../../queue/index.js";
import type { Kms } from "../../secrets/index.js";
import { attestArtifact, type Verdict } from "../attest.js";
import type { Db } from "../db.js";
import { artifactPolicy } from "../policy.js";
import type { ArtifactStatus } from "../records.js";
import type { BlobStore } from "../store/index.js";
import { recordMismatch, type PendingDiff } from "./report.js";

export interface CorroborationDeps {
  db: Db;
  kms: Kms;
  store: BlobStore;
  publicUrl: string;
  version?: string;
}

/** One build of the job: the job itself or a replica, with its node's facts as at its assignment. */
export interface Build {
  jobId: number;
  nodeId: number | null;
  node: string | null;
  operator: string | null;
  /** OPERATOR_KEY: who runs the node, as replicas tell operators apart. */
  operatorKey: string | null;
  trusted: boolean;
  /** Its artifacts by name: digest and row id. */
  artifacts: Map<string, { id: number; sha256: string }>;
}

// Trust and operator as recorded at assignment; jobs assigned before migration 039 have no record
// and fall back to the node's current values (assignedNode).
const BUILDER = assignedNode("j");
const BUILDS = `
SELECT j.id, j.node_id, n.name AS node, ${BUILDER.operator} AS operator,
       ${BUILDER.workerTrust} AS worker_trust, ${BUILDER.operatorKey} AS operator_key,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name, 'sha256', a.sha256))
                   FROM artifacts a
                  WHERE a.job_id = j.id AND a.job_attempt = j.attempt AND a.state = 'finalized'
                    AND (a.replica_of IS NULL) = (j.replica_of IS NULL)), '[]'::jsonb) AS artifacts
  FROM jobs j LEFT JOIN nodes n ON n.id = j.node_id
 WHERE (j.id = $1 OR j.replica_of = $1) AND j.state = 'completed' AND j.conclusion = 'success'
 ORDER BY j.replica_of NULLS FIRST, j.id`;

interface BuildRow {
  id: string;
  node_id: string | null;
  node: string | null;
  operator: string | null;
  worker_trust: "trusted" | "untrusted" | null;
  operator_key: string | null;
  artifacts: Array<{ id: number; name: string; sha256: string }>;
}

/** The job's own build first, then each successful replica's. */
export async function buildsOf(db: Db, jobId: number): Promise<Build[]> {
  const { rows } = await db.query<BuildRow>(BUILDS, [jobId]);
  return rows.map((r) => ({
    jobId: Number(r.id),
    nodeId: r.node_id === null ? null : Number(r.node_id),
    node: r.node,
    operator: r.operator,
    operatorKey: r.node_id === null ? null : r.operator_key,
    trusted: r.worker_trust === "trusted",
    artifacts: new Map(r.artifacts.map((a) => [a.name, { id: Number(a.id), sha256: a.sha256 }])),
  }));
}

/** The verdict on one artifact of the first build (the job's own), given every build. */
export function judge(
  name: string,
  builds: readonly Build[],
  agree: number,
): { status: ArtifactStatus; differing: Build[] } {
  const [own, ...replicas] = builds;
  const sha = own?.artifacts.get(name)?.sha256;
  if (!own || sha === undefined) return { status: "unverified", differing: [] };
  const differing = replicas.filter((b) => b.artifacts.get(name)?.sha256 !== sha);
  if (differing.length > 0) return { status: "mismatch", differing };
  if (builds.some((b) => b.trusted && b.nodeId !== null)) return { status: "trusted", differing };
  // An untrusted node nobody named an operator for is no independent witness (one party could
  // run many such nodes): it never counts towards corroborated.
  // One machine is one witness, whatever operator names it carried at its builds (an operator
  // renamed between two builds on the same node must not make them look independent).
  const seen = new Set<number>();
  const witnesses = builds.filter((b) => b.nodeId !== null && !seen.has(b.nodeId) && seen.add(b.nodeId));
  const operators = new Set(
    witnesses.flatMap((b) =>
      b.operatorKey === null || b.operatorKey.startsWith("node:") ? [] : [b.operatorKey],
    ),
  );
  return { status: operators.size >= Math.max(2, agree) ? "corroborated" : "unverified", differing };
}

export interface Outcome {
  /** Artifact id → its status now. */
  statuses: Map<number, ArtifactStatus>;
  /** Artifacts found to differ by this call (not those found before). */
  mismatches: number[];
  /** Reports made by this call whose archive diff is still to be made (fillReport, after commit). */
  diffs: PendingDiff[];
}

/**
 * Compares the builds of job `jobId` (not a replica) and records the verdicts; once none of its
 * rebuilds is queued or running, its artifacts stop waiting (promotion, deployments). Meant to run
 * in one short transaction; the archive diffs of new reports come after (fillReport).
 */
export async function corroborate(d: CorroborationDeps, jobId: number): Promise<Outcome> {
  const builds = await buildsOf(d.db, jobId);
  const out: Outcome = { statuses: new Map(), mismatches: [], diffs: [] };
  const { rows: runs } = await d.db.query<{ repository_id: string; run_id: string }>(
    `SELECT r.repository_id, r.id AS run_id FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.id = $1`,
    [jobId],
  );
  const run = runs[0];
  if (!run) return out;
  const own = builds[0];
  if (own && own.jobId === jobId && builds.length >= 2) await judgeAll(d, run, jobId, builds, out);
  // A trusted worker built it: a rebuild that only a trusted worker may take is not needed (and
  // might wait for ever when every trusted node has built it already).
  if (builds.some((b) => b.trusted && b.nodeId !== null))
    await d.db.query(
      `UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), wait_reason = NULL,
              error = 'not needed: a trusted worker built the job'
        WHERE replica_of = $1 AND replica_trusted_worker AND state = 'queued'`,
      [jobId],
    );
  await d.db.query(
    `UPDATE artifacts SET awaiting_rebuilds = false
      WHERE job_id = $1 AND replica_of IS NULL AND awaiting_rebuilds
        AND NOT EXISTS (SELECT 1 FROM jobs x WHERE x.replica_of = $1 AND x.state IN ('queued', 'assigned', 'running'))`,
    [jobId],
  );
  return out;
}

async function judgeAll(
  d: CorroborationDeps,
  run: { repository_id: string; run_id: string },
  jobId: number,
  builds: Build[],
  out: Outcome,
): Promise<void> {
  const own = builds[0]!;
  const ids = { runId: Number(run.run_id), repositoryId: Number(run.repository_id) };
  const { agree } = (await artifactPolicy(d.db, ids.repositoryId)).corroborate;
  for (const [name, a] of own.artifacts) {
    const { rows } = await d.db.query<{ status: ArtifactStatus }>(
      `SELECT status FROM artifacts WHERE id = $1`,
      [a.id],
    );
    const before = rows[0]?.status;
    if (before === undefined) continue;
    const v = judge(name, builds, agree);
    // A mismatch is never undone by a later build that happens to agree.
    const status = before === "mismatch" ? "mismatch" : v.status;
    const verdict: Verdict = {
      status,
      builders: builds
        .filter((b) => b.node !== null)
        .map((b) => ({
          node: b.node!,
          operator: b.operator,
          trusted: b.trusted,
          agreed: b.artifacts.get(name)?.sha256 === a.sha256,
          ...(b.artifacts.get(name) ? { sha256: b.artifacts.get(name)!.sha256 } : {}),
        })),
    };
    await attestArtifact(d.db, d.kms, d.publicUrl, a.id, d.version, verdict);
    out.statuses.set(a.id, status);
    // Every differing build gets its report and its nodes flagged, also after the first.
    if (v.differing.length > 0) out.diffs.push(...(await recordMismatch(d, ids, name, builds, v.differing)));
    if (status === "mismatch" && before !== "mismatch") {
      out.mismatches.push(a.id);
      // Promoted before the verdict (a trusted first build, say): no longer releasable.
      const revoked = await d.db.query(
        `UPDATE artifacts SET promoted_at = NULL, promoted_by = NULL WHERE id = $1 AND promoted_at IS NOT NULL`,
        [a.id],
      );
      await appendAudit(d.db, {
        actor: { kind: "system" },
        action: "artifact.mismatch",
        object: { kind: "artifact", id: String(a.id) },
        details: {
          run: ids.runId,
          name,
          nodes: builds.flatMap((b) => (b.node === null ? [] : [b.node])),
          promotionRevoked: (revoked.rowCount ?? 0) > 0,
        },
      });
    }
  }
}
