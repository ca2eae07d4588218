// A machine's job services: a small HTTP server on a unix socket of its own (in a fresh 0700
// folder), which the machine reaches through its relay at Machine.servicesUrl and nothing else of
// the node or the orchestrator. It answers:
// - the identity-token request of GitHub's toolkit (`core.getIDToken(audience)`: GET
//   $ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with `Authorization: Bearer
//   $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered `{ value }`), for a job given a request token: the
//   token is checked here (constant time) and the request forwarded to the orchestrator's
//   ID_TOKEN_PATH with it; 4 at a time, 15 s each, no request bodies;
// - the artifact and cache services (results-proxy.ts), for a job given a runtime token: carried
//   to the orchestrator, which checks the token on every call; 16 at a time, streaming, ended only
//   when no byte moves for two minutes.
// The job never talks to the orchestrator itself, and its requests cannot reach any other route:
// every other path or method gets 404 or 405.
import { timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ID_TOKEN_PATH } from "../protocol/agent.js";
import type { JobRuntime, MachineServices } from "../runner/index.js";
import { isResultsPath, proxyResults } from "./results-proxy.js";

export interface JobServicesOptions {
  /** The orchestrator's http(s) address (ws(s):// accepted). */
  serverUrl: string;
  /** The job attempt's request token (assign.idTokenRequest), when its permissions grant it. */
  idTokenRequest?: string;
  /** The job attempt's ACTIONS_RUNTIME_TOKEN (assign.runtimeToken): artifacts and caches. */
  runtimeToken?: string;
}

const MAX_CONCURRENT = 4;
const MAX_RESULTS_CONCURRENT = 16;
/** A connection of the results proxy may sit idle this long (a slow upload keeps it busy). */
const IDLE_MS = 120_000;
const TIMEOUT_MS = 15_000;

/** The orchestrator's http(s) base for a URL the agent was given. */
export function httpBase(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  return url.toString().replace(/\/+$/, "");
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function answer(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Asks the orchestrator; answers with its status and `{ value }` or one line of why not. */
async function forward(
  o: JobServicesOptions,
  idTokenRequest: string,
  audience: string | null,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(`${httpBase(o.serverUrl)}${ID_TOKEN_PATH}`);
  if (audience !== null) url.searchParams.set("audience", audience);
  try {
    const r = await fetch(url, {
      headers: { authorization: `Bearer ${idTokenRequest}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await r.json().catch(() => ({}))) as { value?: unknown; error?: { message?: unknown } };
    if (r.ok && typeof body.value === "string") return answer(res, 200, { value: body.value });
    const why =
      typeof body.error?.message === "string" ? body.error.message : `orchestrator answered ${r.status}`;
    answer(res, r.ok ? 502 : r.status, { message: why });
  } catch (err) {
    answer(res, 502, { message: `the orchestrator could not be reached: ${(err as Error).message}` });
  }
}

export async function openJobServices(o: JobServicesOptions): Promise<MachineServices> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-svc-"));
  const socketPath = join(dir, "services.sock");
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let resultsInFlight = 0;
  let servicesUrl: string | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://job-services");
    if (o.runtimeToken !== undefined && isResultsPath(url.pathname)) {
      if (req.method !== "GET" && req.method !== "POST" && req.method !== "PUT" && req.method !== "HEAD")
        return answer(res, 405, { message: "method not allowed" });
      if (resultsInFlight >= MAX_RESULTS_CONCURRENT)
        return answer(res, 429, { message: "too many requests at once" });
      resultsInFlight++;
      void proxyResults(
        { server: httpBase(o.serverUrl), servicesUrl: () => servicesUrl },
        req,
        res,
        url,
      ).finally(() => resultsInFlight--);
      return;
    }
    const idTokenRequest = o.idTokenRequest;
    if (url.pathname !== "/id-token" || idTokenRequest === undefined)
      return answer(res, 404, { message: "not found" });
    if (req.method !== "GET") return answer(res, 405, { message: "only GET" });
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    if (!sameSecret(token, idTokenRequest)) return answer(res, 401, { message: "invalid request token" });
    if (inFlight >= MAX_CONCURRENT) return answer(res, 429, { message: "too many requests at once" });
    inFlight++;
    void forward(o, idTokenRequest, url.searchParams.get("audience"), res).finally(() => inFlight--);
  });
  // Uploads of large artifacts take as long as they take: no limit on a whole request, but one on
  // its headers and on a connection where nothing moves.
  server.requestTimeout = o.runtimeToken !== undefined ? 0 : TIMEOUT_MS + 5_000;
  server.headersTimeout = 10_000;
  server.timeout = IDLE_MS;
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    socketPath,
    runtime: (url): JobRuntime => {
      servicesUrl = url;
      const secrets = [o.idTokenRequest, o.runtimeToken].filter((t): t is string => t !== undefined);
      return {
        env:
          o.idTokenRequest !== undefined
            ? {
                ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/id-token?api-version=2.0`,
                ACTIONS_ID_TOKEN_REQUEST_TOKEN: o.idTokenRequest,
              }
            : {},
        ...(o.runtimeToken !== undefined
          ? {
              actionEnv: {
                ACTIONS_RUNTIME_TOKEN: o.runtimeToken,
                ACTIONS_RESULTS_URL: `${url}/`,
                ACTIONS_CACHE_SERVICE_V2: "true",
              },
            }
          : {}),
        secrets,
      };
    },
    close() {
      closed ??= (async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
