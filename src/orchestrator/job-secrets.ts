// What a server run's job description carries of its secrets: only the ones the job refers to,
// each sealed under the run DEK (src/secrets/run-keys.ts) — never a plaintext value, neither in the
// jobs table nor in the `assign` message. The node opens them after redeeming the attempt's
// one-time release token for the machine it created (src/secrets/release.ts, src/agent/release.ts).
//
// "Refers to" is read from the job's expressions (`${{ … }}` in its env, steps, outputs, containers): a
// `secrets.NAME` or `secrets['NAME']` names one secret; any other use of the context (`toJSON(secrets)`,
// `secrets[format(…)]`) needs them all, as GitHub would give. GITHUB_TOKEN stays as it is.
import type { JobDescription } from "../runner/types.js";
import type { GitAuth } from "../git/index.js";
import {
  missingSecretsWarning,
  openRunKey,
  SOURCE_CREDENTIAL_NAME,
  type Db,
  type Kms,
} from "../secrets/index.js";

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const USE =
  /(^|[^.\w])secrets\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\s*\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\4\s*\])?/gi;

/** The secret names (upper-case) the job's expressions refer to, or "all". */
export function secretsReferenced(
  job: Pick<JobDescription, "env" | "steps" | "outputs" | "container" | "services">,
): Set<string> | "all" {
  // container/services: their env and credentials travel as written (src/containers/spec.ts).
  const text = JSON.stringify([job.env, job.steps, job.outputs, job.container, job.services]);
  const names = new Set<string>();
  for (const m of text.matchAll(EXPRESSION)) {
    // JSON escapes quotes inside the expression text; undo them for the index form.
    const expr = m[1]!.replace(/\\"/g, '"');
    for (const u of expr.matchAll(USE)) {
      const name = u[3] ?? u[5];
      if (name === undefined) return "all";
      names.add(name.toUpperCase());
    }
  }
  return names;
}

/** The description with its secrets sealed (the ones it refers to) and none left in clear. */
export async function sealJobSecrets(
  db: Db,
  kms: Kms,
  runId: number,
  description: JobDescription,
  source?: GitAuth,
): Promise<JobDescription> {
  const { GITHUB_TOKEN, ...rest } = description.contexts.secrets;
  const wanted = secretsReferenced(description);
  const names = Object.keys(rest).filter((n) => wanted === "all" || wanted.has(n.toUpperCase()));
  const secrets: Record<string, string> = GITHUB_TOKEN === undefined ? {} : { GITHUB_TOKEN };
  const out: JobDescription = { ...description, contexts: { ...description.contexts, secrets } };
  // A name the job refers to that no level sets: GitHub silently gives "", we say so.
  const have = new Set(Object.keys(description.contexts.secrets).map((n) => n.toUpperCase()));
  const missing = wanted === "all" ? [] : [...wanted].filter((n) => !have.has(n)).sort();
  if (missing.length > 0)
    out.warnings = [
      ...(description.warnings ?? []),
      missingSecretsWarning(description.workflow.file, missing),
    ];
  if (names.length === 0 && !source) return out;
  const key = await openRunKey(db, kms, runId);
  try {
    if (names.length > 0)
      out.sealedSecrets = Object.fromEntries(names.map((n) => [n, key.seal(n, rest[n]!)]));
    // The repository's clone credential, for the node's checkout of the job's workspace.
    if (source) out.sealedSource = key.seal(SOURCE_CREDENTIAL_NAME, JSON.stringify(source));
  } finally {
    key.close();
  }
  return out;
}

/**
 * An untrusted run's job (src/orchestrator/trust.ts): no secret at all (the run gets none; this also
 * drops any that reached the description another way), no clone credential, at most read
 * permissions (so no identity token: `id-token` has no read level), and the runner's untrusted
 * mode (script expressions passed as variables, src/runner/injection.ts).
 */
export function untrustedJob(description: JobDescription): JobDescription {
  const { GITHUB_TOKEN } = description.contexts.secrets;
  const { sealedSecrets: _s, sealedSource: _c, ...rest } = description;
  const permissions = Object.fromEntries(
    Object.keys(description.permissions ?? {}).flatMap((k) =>
      k === "id-token" ? [] : [[k, "read" as const]],
    ),
  );
  return {
    ...rest,
    contexts: { ...description.contexts, secrets: GITHUB_TOKEN === undefined ? {} : { GITHUB_TOKEN } },
    permissions,
    trustTier: "untrusted",
  };
}
