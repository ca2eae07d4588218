// The agent's first start: it exchanges its one-time registration token for its node's first
// credential (POST /api/v1/agent/register, src/protocol/agent.ts). A refused token is final (it is
// used, revoked, expired or wrong: the administrator makes a new one); an unreachable or busy
// orchestrator is retried with backoff until the agent is stopped.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { REGISTER_PATH, Registered } from "../protocol/agent.js";
import { causeOfError, causeOfStatus } from "./connect-cause.js";
import type { AgentLogger } from "./logger.js";

/** `http(s)://…/api/v1/agent/register` from the orchestrator's address (ws(s):// accepted too). */
export function registerEndpoint(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${REGISTER_PATH}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** One exchange. Throws a retryable AirlockError when it may work later. */
export async function exchangeOnce(
  serverUrl: string,
  token: string,
  signal?: AbortSignal,
): Promise<Registered> {
  let res: Response;
  try {
    res = await fetch(registerEndpoint(serverUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    // fetch wraps the socket's error (its code says connection refused, DNS, TLS...) in a TypeError.
    const inner = (cause as { cause?: unknown }).cause;
    const err = (inner instanceof Error ? inner : cause) as Error & { code?: string };
    const why = signal?.aborted ? "stopped" : causeOfError(err, registerEndpoint(serverUrl)).message;
    throw new AirlockError(ErrorCode.SERVER_UNREACHABLE, `cannot register: ${why}`, {
      cause,
      retryable: true,
    });
  }
  const text = await res.text();
  if (res.status === 201) {
    const parsed = Registered.safeParse(safeJson(text));
    if (parsed.success) return parsed.data;
    throw new AirlockError(ErrorCode.API_FAILED, "the orchestrator's registration answer is malformed");
  }
  if (res.status === 401)
    throw new AirlockError(
      ErrorCode.UNAUTHORIZED,
      "the orchestrator refused the registration token (unknown, used, revoked or expired): make a new one with `airlock nodes register-token`",
    );
  if (res.status === 404)
    throw new AirlockError(
      ErrorCode.API_FAILED,
      `cannot register: ${causeOfStatus(404, registerEndpoint(serverUrl)).message}`,
    );
  const message = (safeJson(text) as { error?: { message?: string } } | undefined)?.error?.message;
  if (res.status === 409) throw new AirlockError(ErrorCode.CONFLICT, `cannot register: ${message ?? text}`);
  throw new AirlockError(ErrorCode.API_FAILED, `registration failed (${res.status}): ${message ?? ""}`, {
    retryable: true,
  });
}

/** Exchanges until it works, is refused for good, or `signal` aborts (then it throws). */
export async function exchangeRegistrationToken(
  serverUrl: string,
  token: string,
  o: { signal: AbortSignal; log: AgentLogger; minBackoffMs: number; maxBackoffMs: number },
): Promise<Registered> {
  for (let failures = 0; ; failures++) {
    try {
      return await exchangeOnce(serverUrl, token, o.signal);
    } catch (err) {
      if (o.signal.aborted || !(err instanceof AirlockError) || !err.retryable) throw err;
      const delay = Math.min(o.maxBackoffMs, o.minBackoffMs * 2 ** Math.min(failures, 20));
      o.log.warn({ retryInMs: delay }, `${err.message}; retrying`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, delay);
        function done(): void {
          clearTimeout(t);
          o.signal.removeEventListener("abort", done);
          resolve();
        }
        o.signal.addEventListener("abort", done);
      });
      if (o.signal.aborted) throw new AirlockError(ErrorCode.USAGE, "agent stopped before registering");
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
