// A machine's job services: a small HTTP server on a unix socket of its own (in a fresh 0700
// folder), which the machine reaches through its relay at Machine.servicesUrl and nothing else of
// the node or the orchestrator. Today it answers one path, the identity-token request of GitHub's
// toolkit (`core.getIDToken(audience)`: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with
// `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered `{ value }`); artifacts and
// caches are to join it. The request token is checked here (constant time) and the request
// forwarded to the orchestrator's ID_TOKEN_PATH with it: the job never talks to the orchestrator
// itself, and its requests cannot reach any other route. Bounded: 4 requests at a time, 15 s each,
// no request bodies; every other path or method gets 404 or 405.
import { timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ID_TOKEN_PATH } from "../protocol/agent.js";
import type { MachineServices } from "../runner/index.js";

export interface JobServicesOptions {
  /** The orchestrator's http(s) address (ws(s):// accepted). */
  serverUrl: string;
  /** The job attempt's request token (assign.idTokenRequest). */
  idTokenRequest: string;
}

const MAX_CONCURRENT = 4;
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
  audience: string | null,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(`${httpBase(o.serverUrl)}${ID_TOKEN_PATH}`);
  if (audience !== null) url.searchParams.set("audience", audience);
  try {
    const r = await fetch(url, {
      headers: { authorization: `Bearer ${o.idTokenRequest}` },
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
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://job-services");
    if (url.pathname !== "/id-token") return answer(res, 404, { message: "not found" });
    if (req.method !== "GET") return answer(res, 405, { message: "only GET" });
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    if (!sameSecret(token, o.idTokenRequest)) return answer(res, 401, { message: "invalid request token" });
    if (inFlight >= MAX_CONCURRENT) return answer(res, 429, { message: "too many requests at once" });
    inFlight++;
    void forward(o, url.searchParams.get("audience"), res).finally(() => inFlight--);
  });
  server.requestTimeout = TIMEOUT_MS + 5_000;
  server.headersTimeout = 10_000;
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
    runtime: (servicesUrl) => ({
      env: {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${servicesUrl}/id-token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: o.idTokenRequest,
      },
      secrets: [o.idTokenRequest],
    }),
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
