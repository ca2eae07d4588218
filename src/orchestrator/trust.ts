// Trust tiers (issue 9, item 1): a run's tier comes from who triggered it and which ref it builds —
// never from which files changed (a pull request that "only touches docs" can still change the
// workflow it runs):
//
//   trusted    pushes and tags (they need write access to the repository), polling (the
//              repository's own branches), manual runs and re-runs by authorized users, pull
//              requests whose head is the repository itself, and pull_request_target (whose
//              workflow comes from the base branch, not from the pull request)
//   untrusted  pull requests from another repository (a fork), or whose head repository the forge
//              does not name (a deleted fork): their code is anybody's
//
// Untrusted runs may also wait for a maintainer: with the repository's policy 'all' (the default)
// every one waits; with 'first-time' only first-time contributors do (GitHub's FIRST_TIME_* / NONE
// associations, or anyone with no approved run in this repository yet) — they always wait. An
// approval is bound to the commit (untrusted_approvals): a run at an approved commit (another
// workflow of the same push, a re-run) needs none, and a later push needs another.
import type { Queryable } from "../queue/index.js";

export type TrustTier = "trusted" | "untrusted";

export interface TrustFacts {
  event: string;
  trigger: "webhook" | "manual" | "poll" | "rerun" | "schedule" | "workflow_run";
  actor: string;
  commit: string;
  pullRequest?: {
    /** The repository the pull request targets, as the forge names it. */
    baseRepository: string;
    headRepository?: string;
    authorAssociation?: string;
  };
}

export interface Trust {
  tier: TrustTier;
  /** Why, in a few words ("pull request from the fork mallory/app"). */
  why: string;
}

const FIRST_TIME = new Set(["FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"]);

export function trustOf(f: TrustFacts): Trust {
  if (f.trigger !== "webhook" || f.event !== "pull_request" || !f.pullRequest)
    return {
      tier: "trusted",
      why: f.trigger === "webhook" ? `${f.event} to the repository` : `${f.trigger} run`,
    };
  const { baseRepository, headRepository } = f.pullRequest;
  if (headRepository === undefined)
    return { tier: "untrusted", why: "pull request whose head repository is unknown" };
  if (headRepository.toLowerCase() !== baseRepository.toLowerCase())
    return { tier: "untrusted", why: `pull request from the fork ${headRepository}` };
  return { tier: "trusted", why: "pull request from the repository itself" };
}

export interface Approval {
  /** null: the run needs none; 'required': it waits; 'approved': its commit was approved before. */
  approval: null | "required" | "approved";
  reason: string | null;
}

/** Whether an untrusted run waits for a maintainer (trusted runs never do). */
export async function approvalFor(
  db: Queryable,
  repo: { id: number; name: string },
  f: TrustFacts,
  trust: Trust,
): Promise<Approval> {
  if (trust.tier === "trusted") return { approval: null, reason: null };
  const { rows } = await db.query<{ policy: string; commit_ok: boolean; author_ok: boolean }>(
    `SELECT r.untrusted_approval AS policy,
            EXISTS (SELECT 1 FROM untrusted_approvals a WHERE a.repository_id = r.id AND a.commit = $2) AS commit_ok,
            EXISTS (SELECT 1 FROM untrusted_approvals a WHERE a.repository_id = r.id AND a.author = $3) AS author_ok
       FROM repositories r WHERE r.id = $1`,
    [repo.id, f.commit, f.actor],
  );
  const row = rows[0];
  if (row?.commit_ok) return { approval: "approved", reason: null };
  const firstTime = FIRST_TIME.has(f.pullRequest?.authorAssociation ?? "") || !row?.author_ok;
  const who = f.actor === "" ? "an unknown author" : f.actor;
  const wait = `waiting for a maintainer of ${repo.name} to approve commit ${f.commit.slice(0, 12)}`;
  if (firstTime)
    return {
      approval: "required",
      reason: `untrusted: ${trust.why}, by first-time contributor ${who}; ${wait}`,
    };
  if (row?.policy === "first-time") return { approval: null, reason: null };
  return { approval: "required", reason: `untrusted: ${trust.why}, by ${who}; ${wait}` };
}
