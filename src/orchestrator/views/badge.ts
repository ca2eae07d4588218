// What a status badge shows (GET /badge/<repository>/<workflow>.svg): the repositories of a name
// (one per organization at most) and the latest running or completed run of a workflow on a
// branch. Names, workflows and branches are matched exactly, as query parameters.
import type { Db } from "../catalog/index.js";

export interface BadgeRepository {
  id: number;
  organizationId: number;
  organizationName: string;
  defaultBranch: string;
  visibility: "private" | "public";
}

export async function repositoriesNamed(
  db: Db,
  name: string,
  organization?: string,
): Promise<BadgeRepository[]> {
  const { rows } = await db.query<{
    id: string;
    organization_id: string;
    organization_name: string;
    default_branch: string;
    visibility: string;
  }>(
    `SELECT p.id, p.organization_id, o.name AS organization_name, p.default_branch, p.visibility
       FROM repositories p JOIN organizations o ON o.id = p.organization_id
      WHERE p.name = $1 AND ($2::text IS NULL OR o.name = $2)
      ORDER BY p.id`,
    [name, organization ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    organizationId: Number(r.organization_id),
    organizationName: r.organization_name,
    defaultBranch: r.default_branch,
    visibility: r.visibility === "public" ? "public" : "private",
  }));
}

export type BadgeStatus = "passing" | "failing" | "cancelled" | "running" | "no status";

/**
 * The status of the newest run of `workflow` (its file's base name with or without .yml/.yaml, its
 * path, or its name) on `branch` that is running or completed; "no status" when there is none.
 */
export async function latestRunStatus(
  db: Db,
  repositoryId: number,
  workflow: string,
  branch: string,
): Promise<BadgeStatus> {
  const { rows } = await db.query<{ state: string; conclusion: string | null }>(
    `SELECT state, conclusion FROM runs r
      WHERE r.repository_id = $1 AND r.ref = 'refs/heads/' || $3 AND r.state IN ('running', 'completed')
        AND $2 IN (r.workflow_file, r.workflow_name, regexp_replace(r.workflow_file, '^.*/', ''),
                   regexp_replace(r.workflow_file, '^.*/|\\.ya?ml$', '', 'g'))
      ORDER BY r.id DESC LIMIT 1`,
    [repositoryId, workflow, branch],
  );
  const r = rows[0];
  if (!r) return "no status";
  if (r.state === "running") return "running";
  return r.conclusion === "success" ? "passing" : r.conclusion === "cancelled" ? "cancelled" : "failing";
}
