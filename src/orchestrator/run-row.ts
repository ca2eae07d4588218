// A run's row as the core reads it (drivers and reruns).
import type { Queryable } from "../queue/index.js";

export interface RunRow {
  id: number;
  repositoryId: number;
  number: number;
  event: string;
  ref: string;
  commit: string;
  payload: Record<string, unknown>;
  inputs: Record<string, string>;
  actor: string;
  title: string;
  workflowFile: string;
  cancelRequested: boolean;
  before: string | undefined;
  trustTier: "trusted" | "untrusted";
  /** null: none needed; 'required': waiting for a maintainer (not driven); 'approved'; 'rejected'. */
  approval: "required" | "approved" | "rejected" | null;
}

export async function loadRun(pool: Queryable, runId: number): Promise<RunRow | undefined> {
  const { rows } = await pool.query<{
    id: string;
    repository_id: string;
    number: number;
    event: string;
    ref: string;
    commit: string;
    payload: Record<string, unknown>;
    inputs: Record<string, string>;
    actor: string;
    title: string;
    workflow_file: string;
    cancel_requested: boolean;
    trust_tier: "trusted" | "untrusted";
    approval: RunRow["approval"];
  }>(
    `SELECT id, repository_id, number, event, ref, commit, payload, inputs, actor, title, workflow_file, cancel_requested,
            trust_tier, approval
       FROM runs WHERE id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const before = typeof r.payload.before === "string" ? r.payload.before : undefined;
  return {
    id: Number(r.id),
    repositoryId: Number(r.repository_id),
    number: r.number,
    event: r.event,
    ref: r.ref,
    commit: r.commit,
    payload: r.payload,
    inputs: r.inputs,
    actor: r.actor,
    title: r.title,
    workflowFile: r.workflow_file,
    cancelRequested: r.cancel_requested,
    before,
    trustTier: r.trust_tier,
    approval: r.approval,
  };
}
