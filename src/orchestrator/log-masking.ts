// The orchestrator's masking pass over what a node reports, before it is stored: the second line of
// defence behind the node's own masking (src/runner), for a node that masks too little (a bug, an
// old agent). It knows the job's secrets from the job description the orchestrator built and
// stored (contexts.secrets and the job token), not the `::add-mask::` values a job registers while
// it runs: those never leave the node, and only the node masks them.
//
// Per job attempt one SecretMasker, built on the first event and kept while the attempt reports;
// the cache is bounded (least recently used out), so a forgotten attempt costs a reload, not memory.
import type { Queryable } from "../queue/index.js";
import type { JobResult } from "../runner/types.js";
import { openRunKey, type Kms } from "../secrets/index.js";
import { SecretMasker } from "../secrets/masking/index.js";

/** The secret values of a job (name → value), as the orchestrator knows them. */
export type SecretsOf = (db: Queryable, jobId: number) => Promise<Record<string, string>>;

const FROM_DESCRIPTION = `
SELECT run_id, description->'contexts'->'secrets' AS secrets, description->'sealedSecrets' AS sealed,
       description->'contexts'->'github'->'token' AS token
FROM jobs WHERE id = $1`;

/**
 * The job description's secrets and job token (what the node was sent): plain ones as they are,
 * sealed ones opened with the run's key (which needs the KMS; without one they are not known here).
 */
export function secretsFromDescription(kms?: Kms): SecretsOf {
  return async (db, jobId) => {
    const { rows } = await db.query<{ run_id: string; secrets: unknown; sealed: unknown; token: unknown }>(
      FROM_DESCRIPTION,
      [jobId],
    );
    const out: Record<string, string> = {};
    const row = rows[0];
    if (row?.secrets && typeof row.secrets === "object") {
      for (const [k, v] of Object.entries(row.secrets)) if (typeof v === "string") out[k] = v;
    }
    const sealed = row?.sealed && typeof row.sealed === "object" ? Object.entries(row.sealed) : [];
    if (kms && row && sealed.length > 0) {
      // A run key that cannot be opened (its organization's key destroyed meanwhile) leaves this
      // pass without those values; the node, which had them, masked them already.
      const key = await openRunKey(db, kms, Number(row.run_id)).catch(() => undefined);
      try {
        for (const [k, v] of sealed) if (key && typeof v === "string") out[k] = key.open(k, v);
      } finally {
        key?.close();
      }
    }
    if (typeof row?.token === "string") out["github.token"] = row.token;
    return out;
  };
}

/** Fields of runner events and results that hold names of states, never text: left as they are. */
const ENUM_KEYS = new Set(["type", "stream", "kind", "level", "stage", "source", "outcome", "conclusion"]);

export class JobMaskers {
  private readonly cache = new Map<string, SecretMasker>();

  constructor(
    private readonly secretsOf: SecretsOf = secretsFromDescription(),
    private readonly capacity = 1024,
  ) {}

  /** The masker of a job attempt (secrets too short to mask are skipped: the node refused the job). */
  async get(db: Queryable, jobId: number, attempt: number): Promise<SecretMasker> {
    const key = `${jobId}:${attempt}`;
    const known = this.cache.get(key);
    if (known) {
      this.cache.delete(key);
      this.cache.set(key, known);
      return known;
    }
    const masker = new SecretMasker();
    for (const [name, value] of Object.entries(await this.secretsOf(db, jobId))) {
      try {
        masker.addSecret(value, name);
      } catch {
        // SECRET_TOO_SHORT: the node refused to run the job with it; nothing of it was printed.
      }
    }
    this.cache.set(key, masker);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return masker;
  }

  /** The attempt ended: its masker is no longer needed. */
  forget(jobId: number, attempt: number): void {
    this.cache.delete(`${jobId}:${attempt}`);
  }
}

/** Every string of a JSON value masked (keys and state names left alone). */
export function maskDeep<T>(masker: SecretMasker, value: T): T {
  if (masker.size === 0) return value;
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") return key !== undefined && ENUM_KEYS.has(key) ? v : masker.mask(v);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * A job result as stored: masked, and without the job outputs that hold a secret — as on GitHub
 * ("Skip output 'x' since it may contain secret"), since outputs travel on to other jobs. Returns
 * the names of the outputs dropped.
 */
export function maskResult(
  masker: SecretMasker,
  result: JobResult,
): { result: JobResult; dropped: string[] } {
  if (masker.size === 0) return { result, dropped: [] };
  const outputs: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(result.outputs ?? {})) {
    if (typeof v === "string" && masker.contains(v)) dropped.push(k);
    else outputs[k] = v;
  }
  return { result: { ...maskDeep(masker, result), outputs }, dropped };
}
