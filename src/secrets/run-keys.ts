// Per-run data keys, for delivering secrets to a run's jobs: createRunKey makes a random DEK for a
// run, wraps it with the organization DEK (bound to the organization, repository and run) and
// stores it on the run row. Values sealed with it are bound to the run and a name, and travel as
// one string ("a1.<nonce>.<ciphertext>", base64url), so a value sealed for one run or name does not
// open for another. The organization and repository are read from the run row, never taken from
// the caller.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { aad, newDataKey, open, pack, seal, unpack, wipe, type Binding } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { liveOrganizationKey, organizationKeyById } from "./org-keys.js";
import { inTransaction, type Db } from "./scope.js";

interface RunRow {
  organization_id: string;
  repository_id: string;
  run_key_wrapped: Buffer | null;
  run_key_organization_key_id: string | null;
}

async function runRow(db: Db, runId: number, lock = false): Promise<RunRow> {
  const { rows } = await db.query<RunRow>(
    `SELECT p.organization_id, r.repository_id, r.run_key_wrapped, r.run_key_organization_key_id
       FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE r.id = $1${lock ? " FOR UPDATE OF r" : ""}`,
    [runId],
  );
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} not found`);
  return rows[0];
}

function bind(
  purpose: Binding["purpose"],
  r: RunRow,
  runId: number,
  orgKey: number,
  name: string | null,
): Buffer {
  return aad({
    purpose,
    organizationId: Number(r.organization_id),
    repositoryId: Number(r.repository_id),
    environment: null,
    id: runId,
    name,
    version: null,
    organizationKeyId: orgKey,
  });
}

/** Makes the run's DEK and stores it wrapped on the run. Idempotent: a run keeps its first key. */
export async function createRunKey(db: Db, kms: Kms, runId: number): Promise<void> {
  await inTransaction(db, async (c) => {
    const r = await runRow(c, runId, true);
    if (r.run_key_wrapped !== null) return;
    const orgKey = await liveOrganizationKey(c, kms, Number(r.organization_id));
    const dek = newDataKey();
    try {
      const wrapped = pack(seal(orgKey.dek, dek, bind("run-dek", r, runId, orgKey.id, null)));
      await c.query("UPDATE runs SET run_key_wrapped = $2, run_key_organization_key_id = $3 WHERE id = $1", [
        runId,
        wrapped,
        orgKey.id,
      ]);
    } finally {
      wipe(dek, orgKey.dek);
    }
  });
}

/**
 * What a run's sealed values are bound to besides their name: nothing secret, and enough for a
 * node that holds the run DEK (after a release) to open them without the database.
 */
export interface RunKeyBinding {
  organizationId: number;
  repositoryId: number;
  runId: number;
  organizationKeyId: number;
}

function valueAad(b: RunKeyBinding, name: string): Buffer {
  return aad({
    purpose: "run-value",
    organizationId: b.organizationId,
    repositoryId: b.repositoryId,
    environment: null,
    id: b.runId,
    name,
    version: null,
    organizationKeyId: b.organizationKeyId,
  });
}

const SEALED = /^a1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/** Seals one value under a run DEK, bound to the run and the name. */
export function sealRunValue(dek: Buffer, b: RunKeyBinding, name: string, value: string): string {
  const s = seal(dek, Buffer.from(value, "utf8"), valueAad(b, name));
  return `a1.${s.nonce.toString("base64url")}.${s.ciphertext.toString("base64url")}`;
}

/** Opens a value sealed by sealRunValue (SECRET_UNREADABLE for anything else or a wrong binding). */
export function openRunValue(dek: Buffer, b: RunKeyBinding, name: string, sealed: string): string {
  const what = `a value sealed for run ${b.runId} (${name})`;
  const m = SEALED.exec(sealed);
  if (!m) throw new AirlockError(ErrorCode.SECRET_UNREADABLE, `${what} is not a sealed value`);
  const s = { nonce: Buffer.from(m[1]!, "base64url"), ciphertext: Buffer.from(m[2]!, "base64url") };
  return open(dek, s, valueAad(b, name), what).toString("utf8");
}

/** A run's DEK in memory: seal and open values for the run; close() wipes it. */
export interface RunKey {
  readonly binding: RunKeyBinding;
  seal(name: string, value: string): string;
  open(name: string, sealed: string): string;
  /** A copy of the raw DEK, for a release to a live job's machine (the caller wipes it). */
  exportKey(): Buffer;
  close(): void;
}

export async function openRunKey(db: Db, kms: Kms, runId: number): Promise<RunKey> {
  const r = await runRow(db, runId);
  if (r.run_key_wrapped === null || r.run_key_organization_key_id === null)
    throw new AirlockError(ErrorCode.SECRET_UNREADABLE, `run ${runId} has no run key (createRunKey first)`);
  const keyId = Number(r.run_key_organization_key_id);
  const orgKey = await organizationKeyById(db, kms, keyId);
  let dek: Buffer;
  try {
    dek = open(
      orgKey.dek,
      unpack(r.run_key_wrapped),
      bind("run-dek", r, runId, keyId, null),
      `the key of run ${runId}`,
    );
  } finally {
    wipe(orgKey.dek);
  }
  const binding: RunKeyBinding = {
    organizationId: Number(r.organization_id),
    repositoryId: Number(r.repository_id),
    runId,
    organizationKeyId: keyId,
  };
  return {
    binding,
    seal: (name, value) => sealRunValue(dek, binding, name, value),
    open: (name, sealed) => openRunValue(dek, binding, name, sealed),
    exportKey: () => Buffer.from(dek),
    close() {
      wipe(dek);
    },
  };
}

/** Seals one value for a run (opens and closes its key; use openRunKey for many). */
export async function sealForRun(
  db: Db,
  kms: Kms,
  runId: number,
  name: string,
  value: string,
): Promise<string> {
  const key = await openRunKey(db, kms, runId);
  try {
    return key.seal(name, value);
  } finally {
    key.close();
  }
}

export async function unsealForRun(
  db: Db,
  kms: Kms,
  runId: number,
  name: string,
  sealed: string,
): Promise<string> {
  const key = await openRunKey(db, kms, runId);
  try {
    return key.open(name, sealed);
  } finally {
    key.close();
  }
}
