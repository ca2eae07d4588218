// A repository's forge, for the commit statuses Airlock reports (src/forge-status): the kind and
// API URL an operator set (null: inferred from the clone URL's host or the repository's webhooks),
// what they resolve to, and whether a forge token is set — never the token.
import { forgeServerUrl, resolveForge, type ForgeKind } from "../../forge-status/index.js";
import { notFound, num, type Db } from "./db.js";

export interface RepositoryForge {
  id: number;
  name: string;
  /** Set by an operator; null: inferred. */
  kind: ForgeKind | null;
  apiUrl: string | null;
  /** Where statuses go (null when it cannot be told: `problem` says why). */
  resolved: { kind: ForgeKind; apiUrl: string; path: string } | null;
  problem: string | null;
  /** The forge's web address (the jobs' GITHUB_SERVER_URL); null: no forge is known. */
  serverUrl: string | null;
  /** Statuses are sent only with a forge token (`airlock repos set-credential --forge-token-file`). */
  forgeToken: boolean;
}

export interface ForgeChange {
  kind?: ForgeKind | null;
  apiUrl?: string | null;
}

export async function getRepositoryForge(db: Db, id: number): Promise<RepositoryForge> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    clone_url: string;
    forge_kind: ForgeKind | null;
    forge_api_url: string | null;
    hook: string | null;
    token: boolean;
  }>(
    `SELECT r.id, r.name, r.clone_url, r.forge_kind, r.forge_api_url,
            (SELECT w.provider FROM webhook_deliveries w WHERE w.repository_id = r.id
              ORDER BY w.received_at DESC LIMIT 1) AS hook,
            EXISTS (SELECT 1 FROM repository_credentials c
                     WHERE c.repository_id = r.id AND c.kind = 'forge-token') AS token
       FROM repositories r WHERE r.id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) throw notFound("repository", id);
  const settings = {
    name: r.name,
    cloneUrl: r.clone_url,
    kind: r.forge_kind,
    apiUrl: r.forge_api_url,
    webhookProvider: r.hook,
  };
  const f = resolveForge(settings);
  return {
    id: num(r.id),
    name: r.name,
    kind: r.forge_kind,
    apiUrl: r.forge_api_url,
    resolved: f.ok ? { kind: f.kind, apiUrl: f.apiUrl, path: f.path } : null,
    problem: f.ok ? null : f.problem,
    serverUrl: forgeServerUrl(settings) ?? null,
    forgeToken: r.token,
  };
}

/** Sets (a value), clears (null) or keeps (absent) the repository's forge kind and API URL. */
export async function setRepositoryForge(db: Db, id: number, change: ForgeChange): Promise<RepositoryForge> {
  const { rowCount } = await db.query(
    `UPDATE repositories
        SET forge_kind = CASE WHEN $2 THEN $3 ELSE forge_kind END,
            forge_api_url = CASE WHEN $4 THEN $5 ELSE forge_api_url END
      WHERE id = $1`,
    [id, change.kind !== undefined, change.kind ?? null, change.apiUrl !== undefined, change.apiUrl ?? null],
  );
  if (!rowCount) throw notFound("repository", id);
  return getRepositoryForge(db, id);
}
