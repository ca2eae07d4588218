// The few repository facts the core needs, read straight from the table.
import type { Queryable } from "../queue/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface RepoRow {
  id: number;
  organizationId: number;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
}

export async function getRepo(db: Queryable, id: number): Promise<RepoRow> {
  const { rows } = await db.query<{
    id: string;
    organization_id: string;
    name: string;
    clone_url: string;
    default_branch: string;
  }>(`SELECT id, organization_id, name, clone_url, default_branch FROM repositories WHERE id = $1`, [id]);
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `no repository ${id}`);
  return {
    id: Number(r.id),
    organizationId: Number(r.organization_id),
    name: r.name,
    cloneUrl: r.clone_url,
    defaultBranch: r.default_branch,
  };
}
