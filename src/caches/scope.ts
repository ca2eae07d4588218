// Which cache scopes a job attempt writes and reads (issue 13, item 4). A scope is (repository,
// trust tier, ref). GitHub's branch rule: a run on ref R restores entries written on R, on its pull
// request's base branch, and on the default branch; never another feature branch's. Trust on top:
// a run writes only into its own tier's scope, and a trusted run reads only trusted scopes, so an
// entry an untrusted run (a fork's pull request) wrote is never restored by a trusted run, whatever
// key and ref it claims. The protected refs are the default branch and a pull request's base (there
// is no other notion of a protected ref in Airlock); an untrusted run may read their trusted
// entries, as fork pull requests do on GitHub, and its own ref's untrusted ones.
// Worker trust across that (migration 041): within the scopes it reads, a job on a trusted worker
// sees only entries saved by trusted workers, since an untrusted worker may run a trusted run's job
// and save into its trusted scope; a job on an untrusted worker sees them all.
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

/**
 * The scopes of a run on `ref` in `tier`, given the default branch and a pull request's base. A
 * trusted run reads trusted entries of its ref, its base and the default branch. An untrusted run
 * reads the untrusted entries of its own ref only (another fork's pull request cannot feed it),
 * then the trusted entries of its base and the default branch.
 */
export function scopesOf(
  tier: Tier,
  ref: string,
  defaultBranch: string,
  baseRef?: string,
): Omit<RunScopes, "repositoryId"> {
  const protectedRefs = [baseRef, fullRef(defaultBranch)].filter((r): r is string => !!r);
  const read: Scope[] = [{ tier, ref }];
  for (const r of protectedRefs)
    if (!read.some((x) => x.tier === "trusted" && x.ref === r)) read.push({ tier: "trusted", ref: r });
  return { write: { tier, ref }, read };
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

/** Whether caller `c` may restore an entry saved by a worker of trust `savedBy` (migration 041). */
export const seesWorker = (c: Caller, savedBy: Tier): boolean =>
  c.workerTrust === "untrusted" || savedBy === "trusted";
