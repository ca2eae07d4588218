// The node's half of delivery to the live job (src/secrets/release.ts): for the machine of a job
// attempt (once it exists, or just before its job container image is pulled with credentials that
// may read secrets: runJobOnNewMachine decides, once per job), the agent redeems the attempt's
// one-time release token for that machine id, gets the run DEK, opens the job's sealed secrets
// into `contexts.secrets` and wipes the key. Nothing is retried: a token works once, and a job
// whose secrets cannot be released fails on this machine with a one-line reason (its machine is
// destroyed like any other).
import { AirlockError, ErrorCode } from "../errors/index.js";
import { RELEASE_PATH, Released } from "../protocol/agent.js";
import type { JobDescription } from "../runner/index.js";
import type { GitAuth } from "../git/index.js";
import { openRunValue, SOURCE_CREDENTIAL_NAME } from "../secrets/index.js";

/** `http(s)://…/api/v1/agent/release` from the orchestrator's address (ws(s):// accepted too). */
export function releaseEndpoint(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${RELEASE_PATH}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** The job with its sealed secrets opened into `contexts.secrets` (the job itself when it has none). */
export async function releaseSecrets(
  serverUrl: string | undefined,
  /** The node's current credential (the release is refused to any other node). */
  nodeCredential: string | undefined,
  token: string | undefined,
  machineId: string,
  job: JobDescription,
  signal?: AbortSignal,
): Promise<JobDescription> {
  const sealed = job.sealedSecrets ?? {};
  if (Object.keys(sealed).length === 0 && job.sealedSource === undefined) return job;
  if (token === undefined || serverUrl === undefined || nodeCredential === undefined)
    throw new AirlockError(ErrorCode.SECRET_UNREADABLE, "the job has sealed secrets but no release token");
  let res: Response;
  try {
    res = await fetch(releaseEndpoint(serverUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${nodeCredential}`, "content-type": "application/json" },
      body: JSON.stringify({ machine: machineId, token }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new AirlockError(
      ErrorCode.SERVER_UNREACHABLE,
      "cannot reach the orchestrator to release the job's secrets",
      {
        cause,
      },
    );
  }
  const text = await res.text();
  if (res.status !== 200) {
    const message = (safeJson(text) as { error?: { message?: string } } | undefined)?.error?.message;
    throw new AirlockError(
      ErrorCode.SECRET_UNREADABLE,
      `the orchestrator did not release the job's secrets (${res.status}${message ? `: ${message}` : ""})`,
    );
  }
  const parsed = Released.safeParse(safeJson(text));
  if (!parsed.success)
    throw new AirlockError(ErrorCode.API_FAILED, "the orchestrator's release answer is malformed");
  const key = Buffer.from(parsed.data.key, "base64url");
  try {
    const secrets: Record<string, string> = { ...job.contexts.secrets };
    for (const [name, value] of Object.entries(sealed))
      secrets[name] = openRunValue(key, parsed.data.binding, name, value);
    const { sealedSecrets: _opened, sealedSource, ...rest } = job;
    const out: JobDescription = { ...rest, contexts: { ...job.contexts, secrets } };
    if (sealedSource !== undefined)
      out.sourceAuth = JSON.parse(
        openRunValue(key, parsed.data.binding, SOURCE_CREDENTIAL_NAME, sealedSource),
      ) as GitAuth;
    return out;
  } finally {
    key.fill(0);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
