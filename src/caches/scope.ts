// Which cache scopes a job attempt writes and reads (issue 13, item 4). A scope is (repository,
// trust tier, ref). GitHub's branch rule: a run on ref R restores entries written on R, on its pull
// request's base branch, and on the default branch; never another feature branch's. Trust on top:
// a run writes only into its own tier's scope, and a trusted run reads only trusted scopes, so an
// entry an untrusted run (a fork's pull request) wrote is never restored by a trusted run, whatever
// key and ref it claims. An untrusted run may read the trusted entries of its base and default
// branches (as fork pull requests do on GitHub); those are the protected refs here, there being no
// other notion of a protected ref in Airlock.
import type { Caller, Db } from "../artifacts/index.js";

export type Tier = "trusted" | "untrusted";

export interface Scope {
  tier: Tier;
  ref: string;
}

export interface RunScopes {
  repositoryId: number;
  /** Where this run's saves go. */
  write: Scope;
  /** Where its restores look, in order (the first scope with a match wins). */
  read: Scope[];
}

const fullRef = (branch: string): string => (branch.startsWith("refs/") ? branch : `refs/heads/${branch}`);

/** The scopes of a run on `ref` in `tier`, given the default branch and a pull request's base. */
export function scopesOf(
  tier: Tier,
  ref: string,
  defaultBranch: string,
  baseRef?: string,
): Omit<RunScopes, "repositoryId"> {
  const protectedRefs = [...new Set([baseRef, fullRef(defaultBranch)].filter((r): r is string => !!r))];
  const own = [...new Set([ref, ...protectedRefs])].map((r) => ({ tier, ref: r }));
  const trusted =
    tier === "untrusted" ? protectedRefs.map((r) => ({ tier: "trusted" as const, ref: r })) : [];
  return { write: { tier, ref }, read: [...own, ...trusted] };
}

export async function runScopes(db: Db, c: Caller): Promise<RunScopes> {
  const { rows } = await db.query<{
    ref: string;
    event: string;
    base: string | null;
    default_branch: string;
  }>(
    `SELECT r.ref, r.event, r.payload -> 'pull_request' -> 'base' ->> 'ref' AS base, p.default_branch
       FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE r.id = $1`,
    [c.runId],
  );
  const r = rows[0];
  if (!r) throw new Error(`run ${c.runId} vanished`);
  const base = r.event === "pull_request" && r.base ? fullRef(r.base) : undefined;
  return { repositoryId: c.repositoryId, ...scopesOf(c.trustTier, r.ref, r.default_branch, base) };
}

export const sameScope = (a: Scope, b: Scope): boolean => a.tier === b.tier && a.ref === b.ref;
