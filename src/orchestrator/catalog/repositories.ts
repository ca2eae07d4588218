// Repositories (projects): registration, listing, removal. The webhook secret is generated here,
// returned once at creation, and stored sealed under the organization's key (src/secrets
// credentials: webhookSecretOf reads it back to verify a delivery). A password in the clone URL is
// taken out and sealed the same way (clone-password); the row keeps the URL without it.
import { scopeCondition, type ListScope } from "./owners.js";
import { randomBytes } from "node:crypto";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  listSourceCredentials,
  putCredential,
  setSourceCredential,
  splitCloneUrl,
  type Kms,
} from "../../secrets/index.js";
import type { Provider } from "../../sources/index.js";
import type { Links } from "../views/links.js";
import { iso, num, numOrNull, notFound, uniquely, type Db } from "./db.js";

export interface Repository {
  id: number;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
  pollIntervalSeconds: number | null;
  maxConcurrentJobs: number | null;
  /** Destinations its jobs may reach through the node's egress proxy, beside the node's own list. */
  egressAllow: string[];
  /** 'public': anyone may see its status badges; 'private' (default): only who may read it. */
  visibility: RepositoryVisibility;
  createdAt: string;
  webhookUrls: Record<Provider, string>;
}

export const REPOSITORY_VISIBILITIES = ["private", "public"] as const;
export type RepositoryVisibility = (typeof REPOSITORY_VISIBILITIES)[number];

/** What the create call returns: the webhook secret is shown this once, never listed again. */
export interface CreatedRepository extends Repository {
  webhookSecret: string;
}

export interface NewRepository {
  name: string;
  cloneUrl: string;
  defaultBranch?: string;
  pollIntervalSeconds?: number | null;
  maxConcurrentJobs?: number | null;
  /** Organization name (default: "default"). */
  organization?: string;
  /** Default private. */
  visibility?: "private" | "public";
}

const COLUMNS = `id, name, clone_url, default_branch, poll_interval_seconds, max_concurrent_jobs, egress_allow,
  visibility, created_at`;

function fromRow(row: Record<string, unknown>, links: Links): Repository {
  const id = num(row.id);
  return {
    id,
    name: String(row.name),
    cloneUrl: String(row.clone_url),
    defaultBranch: String(row.default_branch),
    pollIntervalSeconds: numOrNull(row.poll_interval_seconds),
    maxConcurrentJobs: numOrNull(row.max_concurrent_jobs),
    egressAllow: Array.isArray(row.egress_allow) ? row.egress_allow.map(String) : [],
    visibility: row.visibility === "public" ? "public" : "private",
    createdAt: iso(row.created_at),
    webhookUrls: links.webhooks(id),
  };
}

/** Registers a repository; pass a client inside a transaction (the secret is stored in a second statement). */
export async function createRepository(
  db: Db,
  input: NewRepository,
  links: Links,
  kms: Kms,
  /** Who registers it (set-by of a clone password the URL carried). */
  by: string | null = null,
): Promise<CreatedRepository> {
  const secret = randomBytes(32).toString("hex");
  const { url: cloneUrl, credential } = splitCloneUrl(input.cloneUrl);
  const org = input.organization ?? "default";
  const { rows } = await uniquely(`repository ${input.name}`, () =>
    db.query(
      `INSERT INTO repositories (organization_id, name, clone_url, default_branch, webhook_secret,
         poll_interval_seconds, max_concurrent_jobs, visibility)
       SELECT o.id, $2, $3, $4, NULL, $5, $6, $7 FROM organizations o WHERE o.name = $1
       RETURNING ${COLUMNS}, organization_id`,
      [
        org,
        input.name,
        cloneUrl,
        input.defaultBranch ?? "main",
        input.pollIntervalSeconds ?? null,
        input.maxConcurrentJobs ?? null,
        input.visibility ?? "private",
      ],
    ),
  );
  const row = rows[0];
  if (!row) throw notFound("organization", org);
  await putCredential(
    db,
    kms,
    { organizationId: num(row.organization_id), repositoryId: num(row.id), kind: "webhook-secret" },
    secret,
  );
  if (credential) {
    const where = { organizationId: num(row.organization_id), repositoryId: num(row.id) };
    await setSourceCredential(db, kms, where, credential, by);
  }
  return { ...fromRow(row, links), webhookSecret: secret };
}

/** What `repos edit` changes; absent: unchanged; null: polling or the job limit taken away. */
export interface RepositoryChanges {
  cloneUrl?: string;
  defaultBranch?: string;
  pollIntervalSeconds?: number | null;
  maxConcurrentJobs?: number | null;
  visibility?: RepositoryVisibility;
}

/** The origin (scheme, host, port) of an http(s) URL; undefined for other forms. */
function httpOrigin(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * Changes a repository's clone URL, default branch, poll interval, job limit or visibility; its webhook secret,
 * name and organization stay. A password in the new clone URL is taken out and sealed as its
 * clone-password, as at registration. A clone URL moving to another http(s) host without a
 * password of its own is refused while a clone password is stored: git would send that password
 * to the new host. Pass a client inside a transaction (the credential is a second statement).
 */
export async function updateRepository(
  db: Db,
  id: number,
  changes: RepositoryChanges,
  links: Links,
  kms: Kms,
  by: string | null = null,
): Promise<{ before: Repository; after: Repository; cloneCredentialSealed: boolean }> {
  const { rows: found } = await db.query(
    `SELECT ${COLUMNS}, organization_id FROM repositories WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = found[0];
  if (!row) throw notFound("repository", id);
  const before = fromRow(row, links);
  const split = changes.cloneUrl === undefined ? undefined : splitCloneUrl(changes.cloneUrl);
  if (split && !split.credential) {
    const from = httpOrigin(before.cloneUrl);
    const to = httpOrigin(split.url);
    if (to !== undefined && from !== to) {
      const kinds = (await listSourceCredentials(db, id)).map((c) => c.kind);
      if (kinds.includes("clone-password"))
        throw new AirlockError(
          ErrorCode.CONFLICT,
          `the clone URL moves to ${to}, where the stored clone password would be sent: give the new URL with its credentials, or remove the old one first (airlock repos remove-credential ${before.name} clone-password)`,
        );
    }
  }
  const set: string[] = [];
  const params: unknown[] = [id];
  const put = (column: string, value: unknown): void => {
    params.push(value);
    set.push(`${column} = $${params.length}`);
  };
  if (split) put("clone_url", split.url);
  if (changes.defaultBranch !== undefined) put("default_branch", changes.defaultBranch);
  if (changes.pollIntervalSeconds !== undefined) put("poll_interval_seconds", changes.pollIntervalSeconds);
  if (changes.maxConcurrentJobs !== undefined) put("max_concurrent_jobs", changes.maxConcurrentJobs);
  if (changes.visibility !== undefined) put("visibility", changes.visibility);
  if (set.length === 0) throw new AirlockError(ErrorCode.USAGE, "nothing to change");
  const { rows } = await db.query(
    `UPDATE repositories SET ${set.join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`,
    params,
  );
  if (split?.credential) {
    const where = { organizationId: num(row.organization_id), repositoryId: id };
    await setSourceCredential(db, kms, where, split.credential, by);
  }
  return { before, after: fromRow(rows[0], links), cloneCredentialSealed: split?.credential !== undefined };
}

/** Every repository, or only those in `scope` (what the caller may see). */
export async function listRepositories(db: Db, links: Links, scope?: ListScope): Promise<Repository[]> {
  const where = scopeCondition(scope, "organization_id", "id", 1);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM repositories WHERE ${where.sql} ORDER BY id`,
    where.params,
  );
  return rows.map((r) => fromRow(r, links));
}

export async function getRepository(db: Db, id: number, links: Links): Promise<Repository> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM repositories WHERE id = $1`, [id]);
  if (!rows[0]) throw notFound("repository", id);
  return fromRow(rows[0], links);
}

/**
 * Replaces a repository's egress allow-list (entries already validated and normalised by the
 * caller; empty: none). Jobs assigned from now on carry the new list; running jobs keep theirs.
 */
export async function setRepositoryEgress(
  db: Db,
  id: number,
  allow: readonly string[],
  links: Links,
): Promise<Repository> {
  const { rows } = await db.query(
    `UPDATE repositories SET egress_allow = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, [...allow]],
  );
  if (!rows[0]) throw notFound("repository", id);
  return fromRow(rows[0], links);
}

/** Egress allow-lists of the given repositories (absent ids: not found, left out). */
export async function repositoryEgress(db: Db, ids: readonly number[]): Promise<Map<number, string[]>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; egress_allow: string[] }>(
    "SELECT id, egress_allow FROM repositories WHERE id = ANY($1::bigint[])",
    [[...ids]],
  );
  return new Map(rows.map((r) => [Number(r.id), r.egress_allow]));
}

/**
 * Removes a repository with its runs, jobs and logs. Refused (CONFLICT) while a run is active:
 * its machines would keep running for jobs that no longer exist — cancel the runs first.
 */
export async function deleteRepository(db: Db, id: number): Promise<void> {
  const { rows } = await db.query<{ active: boolean; deleted: boolean }>(
    `WITH active AS (SELECT 1 FROM runs WHERE repository_id = $1 AND state <> 'completed' LIMIT 1),
          deleted AS (DELETE FROM repositories WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM active) RETURNING id)
     SELECT EXISTS (SELECT 1 FROM active) AS active, EXISTS (SELECT 1 FROM deleted) AS deleted`,
    [id],
  );
  const r = rows[0];
  if (r?.deleted) return;
  if (r?.active)
    throw new AirlockError(ErrorCode.CONFLICT, `repository ${id} has active runs; cancel them first`);
  throw notFound("repository", id);
}
