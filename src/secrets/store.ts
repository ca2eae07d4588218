// The sealed secret store. Each secret version gets its own random DEK, wrapped by the
// organization's DEK; the value is sealed with it. Both ciphertexts are bound (AAD) to the
// secret's organization, repository, environment, row id, name, version and organization key, so
// rows cannot be swapped or replayed. Writing is write-only: nothing here returns a value except
// readSecret, which the run resolver (./resolve.ts) and tests use — never an API route.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { aad, newDataKey, open, pack, seal, unpack, wipe, type Binding } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { LIMITS, checkName, checkValue } from "./names.js";
import { checkSecretValue } from "./masking/index.js";

// Switches a job reads as `true`, not secret values: not held to the masking minimum (as the runner).
const DEBUG_SWITCHES = new Set(["ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG"]);
import { liveOrganizationKey, organizationKeyById, type OrganizationKey } from "./org-keys.js";
import { atScope, describeScope, inTransaction, levelOf, type Db, type Level, type Scope } from "./scope.js";

/** What the API shows of a secret: never its value. */
export interface SecretInfo {
  name: string;
  level: Level;
  environment: string | null;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface SecretRow {
  id: string;
  organization_id: string;
  repository_id: string | null;
  environment: string | null;
  name: string;
  version: number;
  organization_key_id: string;
  wrapped_dek: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

export const SECRET_COLUMNS =
  "id, organization_id, repository_id, environment, name, version, organization_key_id, wrapped_dek, nonce, ciphertext, created_by, updated_by, created_at, updated_at";

export function secretInfo(r: SecretRow): SecretInfo {
  const scope = rowScope(r);
  return {
    name: r.name,
    level: levelOf(scope),
    environment: r.environment,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    updatedAt: r.updated_at.toISOString(),
    updatedBy: r.updated_by,
  };
}

function rowScope(r: SecretRow): Scope {
  return {
    organizationId: Number(r.organization_id),
    repositoryId: r.repository_id === null ? null : Number(r.repository_id),
    environment: r.environment,
  };
}

function binding(
  purpose: Binding["purpose"],
  s: Scope,
  id: number,
  name: string,
  version: number,
  orgKey: number,
): Buffer {
  return aad({ purpose, ...s, id, name, version, organizationKeyId: orgKey });
}

/** Sets a secret (a new one at version 1, else the next version) and returns what may be shown. */
export async function setSecret(
  db: Db,
  kms: Kms,
  scope: Scope,
  input: { name: string; value: string; actor: string },
): Promise<{ secret: SecretInfo; created: boolean }> {
  const name = checkName("secret", input.name);
  const plain = checkValue("secret", name, input.value);
  // Refused here rather than only when a job uses it (SECRET_TOO_SHORT, one line, never the value).
  if (!DEBUG_SWITCHES.has(name)) checkSecretValue(name, input.value);
  return inTransaction(db, async (c) => {
    const where = atScope(scope, 1);
    const prev = (
      await c.query<{ id: string; version: number }>(
        `SELECT id, version FROM secrets WHERE ${where.sql} AND name = $4 FOR UPDATE`,
        [...where.params, name],
      )
    ).rows[0];
    if (!prev) await checkRoom(c, scope);
    const id = prev ? Number(prev.id) : await nextId(c);
    const version = (prev?.version ?? 0) + 1;
    let orgKey: OrganizationKey | undefined;
    const dek = newDataKey();
    try {
      orgKey = await liveOrganizationKey(c, kms, scope.organizationId);
      const wrapped = pack(seal(orgKey.dek, dek, binding("secret-dek", scope, id, name, version, orgKey.id)));
      const sealed = seal(dek, plain, binding("secret-value", scope, id, name, version, orgKey.id));
      const params = [id, orgKey.id, wrapped, sealed.nonce, sealed.ciphertext, version, input.actor];
      const { rows } = await c
        .query<SecretRow>(
          prev
            ? `UPDATE secrets SET organization_key_id = $2, wrapped_dek = $3, nonce = $4, ciphertext = $5,
                 version = $6, updated_by = $7, updated_at = now() WHERE id = $1 RETURNING ${SECRET_COLUMNS}`
            : `INSERT INTO secrets (id, organization_key_id, wrapped_dek, nonce, ciphertext, version, created_by,
                 updated_by, organization_id, repository_id, environment, name)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11) RETURNING ${SECRET_COLUMNS}`,
          prev ? params : [...params, ...where.params, name],
        )
        .catch((err: unknown) => {
          if ((err as { code?: string }).code === "23505")
            throw new AirlockError(
              ErrorCode.CONFLICT,
              `secret ${name} was created at the same time: try again`,
            );
          throw err;
        });
      return { secret: secretInfo(rows[0]!), created: !prev };
    } finally {
      wipe(dek, plain, ...(orgKey ? [orgKey.dek] : []));
    }
  });
}

async function nextId(c: Db): Promise<number> {
  const { rows } = await c.query<{ id: string }>(
    "SELECT nextval(pg_get_serial_sequence('secrets', 'id')) AS id",
  );
  return Number(rows[0]!.id);
}

async function checkRoom(c: Db, scope: Scope): Promise<void> {
  const where = atScope(scope, 1);
  const { rows } = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM secrets WHERE ${where.sql}`,
    where.params,
  );
  const limit = LIMITS.secret[levelOf(scope)];
  if ((rows[0]?.n ?? 0) >= limit)
    throw new AirlockError(
      ErrorCode.SECRET_INVALID,
      `${describeScope(scope)} holds ${limit} secrets already (the limit)`,
    );
}

/** The secrets at exactly this level, by name (never values). */
export async function listSecrets(db: Db, scope: Scope): Promise<SecretInfo[]> {
  const where = atScope(scope, 1);
  const { rows } = await db.query<SecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM secrets WHERE ${where.sql} ORDER BY name`,
    where.params,
  );
  return rows.map(secretInfo);
}

async function findRow(db: Db, scope: Scope, rawName: string): Promise<SecretRow> {
  const name = checkName("secret", rawName);
  const where = atScope(scope, 1);
  const { rows } = await db.query<SecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM secrets WHERE ${where.sql} AND name = $4`,
    [...where.params, name],
  );
  if (!rows[0])
    throw new AirlockError(ErrorCode.NOT_FOUND, `secret ${name} not found in ${describeScope(scope)}`);
  return rows[0];
}

export async function getSecret(db: Db, scope: Scope, name: string): Promise<SecretInfo> {
  return secretInfo(await findRow(db, scope, name));
}

/** Deletes a secret; returns what it was (NOT_FOUND when there is none). */
export async function deleteSecret(db: Db, scope: Scope, rawName: string): Promise<SecretInfo> {
  const name = checkName("secret", rawName);
  const where = atScope(scope, 1);
  const { rows } = await db.query<SecretRow>(
    `DELETE FROM secrets WHERE ${where.sql} AND name = $4 RETURNING ${SECRET_COLUMNS}`,
    [...where.params, name],
  );
  if (!rows[0])
    throw new AirlockError(ErrorCode.NOT_FOUND, `secret ${name} not found in ${describeScope(scope)}`);
  return secretInfo(rows[0]);
}

/**
 * The value of a stored row: unwraps its DEK with the organization key it names (from `keys`,
 * a cache the caller wipes) and opens the value. SECRET_UNREADABLE or KEY_DESTROYED otherwise.
 */
export async function openSecretRow(
  db: Db,
  kms: Kms,
  r: SecretRow,
  keys: Map<number, OrganizationKey>,
): Promise<string> {
  const keyId = Number(r.organization_key_id);
  let orgKey = keys.get(keyId);
  if (!orgKey) {
    orgKey = await organizationKeyById(db, kms, keyId);
    keys.set(keyId, orgKey);
  }
  const scope = rowScope(r);
  const id = Number(r.id);
  const what = `secret ${r.name} of ${describeScope(scope)}`;
  const dek = open(
    orgKey.dek,
    unpack(r.wrapped_dek),
    binding("secret-dek", scope, id, r.name, r.version, keyId),
    what,
  );
  try {
    const value = open(
      dek,
      { nonce: r.nonce, ciphertext: r.ciphertext },
      binding("secret-value", scope, id, r.name, r.version, keyId),
      what,
    );
    return value.toString("utf8");
  } finally {
    wipe(dek);
  }
}

/** One secret's value (for the run resolver's callers and tests; never for an API response). */
export async function readSecret(db: Db, kms: Kms, scope: Scope, name: string): Promise<string> {
  const keys = new Map<number, OrganizationKey>();
  try {
    return await openSecretRow(db, kms, await findRow(db, scope, name), keys);
  } finally {
    for (const k of keys.values()) wipe(k.dek);
  }
}
