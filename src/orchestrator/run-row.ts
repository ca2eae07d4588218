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
  state: "queued" | "running" | "completed";
  /** The current attempt (github.run_attempt): 1, then one more per re-run. */
  attempt: number;
  /** Who triggered the current attempt (github.triggering_actor): the re-runner, else the actor. */
  triggeringActor: string;
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
    state: RunRow["state"];
    attempt: number;
    triggering_actor: string | null;
  }>(
    `SELECT r.id, r.repository_id, r.number, r.event, r.ref, r.commit, r.payload, r.inputs, r.actor, r.title,
            r.workflow_file, r.cancel_requested, r.trust_tier, r.approval, r.state, r.attempt,
            a.triggering_actor
       FROM runs r LEFT JOIN run_attempts a ON a.run_id = r.id AND a.attempt = r.attempt
      WHERE r.id = $1`,
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
    state: r.state,
    attempt: r.attempt,
    triggeringActor: r.triggering_actor || r.actor,
  };
}
