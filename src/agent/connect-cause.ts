// Why the agent cannot reach or use the orchestrator, in one line an operator can act on: the
// failure of a dial (socket error, HTTP answer to the upgrade, close code) mapped to a cause, and
// whether retrying can help. Retried: the orchestrator down or unreachable, a DNS name not (yet)
// resolvable, a certificate problem (certificates get renewed), a busy or throttling server.
// Final: the credential refused, no agent endpoint at the address (a wrong path), another
// protocol version — only an operator can fix those.
import { CloseCode } from "../protocol/agent.js";

export type CauseKind =
  | "connection-refused"
  | "dns"
  | "tls"
  | "timeout"
  | "network"
  | "unauthorized"
  | "not-found"
  | "protocol"
  | "throttled"
  | "server-error"
  | "other";

export interface ConnectCause {
  kind: CauseKind;
  /** Retrying cannot help: the agent stops (when it is told to) instead of retrying. */
  final: boolean;
  /** One line, naming the address and what to check. */
  message: string;
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A socket-level failure of a dial (before any HTTP answer). */
export function causeOfError(err: Error & { code?: string }, url: string): ConnectCause {
  const host = hostOf(url);
  const code = err.code ?? "";
  const http = /Unexpected server response: (\d+)/.exec(err.message);
  if (http) return causeOfStatus(Number(http[1]), url);
  if (code === "ECONNREFUSED")
    return {
      kind: "connection-refused",
      final: false,
      message: `connection refused at ${host} (${url}): is the orchestrator running and listening there?`,
    };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" || code === "EAI_FAIL")
    return {
      kind: "dns",
      final: false,
      message: `DNS name ${host.replace(/:\d+$/, "")} not found (${code}): check the host name of --server`,
    };
  if (TLS_CODES.has(code) || /certificate|\bSSL\b|\bTLS\b/i.test(err.message)) {
    const hint =
      code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER"
        ? "is the address https:// while the orchestrator serves plain http://?"
        : "the agent trusts the system's CAs and those in NODE_EXTRA_CA_CERTS";
    return {
      kind: "tls",
      final: false,
      message: `TLS certificate problem with ${host}: ${code || "handshake failed"} (${err.message}); ${hint}`,
    };
  }
  if (code === "ETIMEDOUT" || /handshake has timed out/i.test(err.message))
    return { kind: "timeout", final: false, message: `no answer from ${host} in time (${url})` };
  if (["EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE", "ENETDOWN", "EHOSTDOWN"].includes(code))
    return { kind: "network", final: false, message: `network error reaching ${host}: ${code}` };
  return { kind: "other", final: false, message: `cannot connect to ${url}: ${err.message}` };
}

/** The HTTP status the orchestrator (or whatever listens at the address) answered the upgrade with. */
export function causeOfStatus(status: number, url: string): ConnectCause {
  if (status === 401 || status === 403) return refusedCredential(url, `HTTP ${status}`);
  if (status === 404)
    return {
      kind: "not-found",
      final: true,
      message: `no agent endpoint at ${url} (HTTP 404): --server must be the orchestrator's base address (e.g. https://ci.example.com), without a path the server does not have`,
    };
  if (status === 429)
    return {
      kind: "throttled",
      final: false,
      message: `the orchestrator is throttling this address (HTTP 429)`,
    };
  if (status >= 500)
    return {
      kind: "server-error",
      final: false,
      message: `the orchestrator at ${hostOf(url)} answered HTTP ${status}`,
    };
  return {
    kind: "other",
    final: false,
    message: `unexpected HTTP ${status} from ${url}: is --server the orchestrator's address?`,
  };
}

/** A close of an opened connection that says more than "reconnect"; undefined for ordinary closes. */
export function causeOfClose(code: number, reason: string, url: string): ConnectCause | undefined {
  if (code === CloseCode.unauthorized) return refusedCredential(url, `closed: ${reason || code}`);
  if (code === CloseCode.unsupportedProtocol)
    return {
      kind: "protocol",
      final: true,
      message: `server version mismatch: ${reason || "the orchestrator does not speak this agent's protocol"}; install the orchestrator's Airlock version on this node`,
    };
  return undefined;
}

function refusedCredential(url: string, how: string): ConnectCause {
  return {
    kind: "unauthorized",
    final: true,
    message: `the orchestrator at ${hostOf(url)} refused the node credential (unauthorized, ${how}): the node was revoked, deleted or its credential re-issued (airlock nodes reissue-token), or this is another server`,
  };
}
