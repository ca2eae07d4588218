// The artifact and cache services as a job reaches them: its machine's job services (a unix socket
// of the agent, reached through the machine's relay) carry the toolkit's requests to the
// orchestrator and its answers back, streaming both ways. Only these paths: the twirp services of
// GitHub's results API (`/twirp/github.actions.results.api.v1.*`) and the signed blob URLs they
// hand out (`/artifacts/blobs/*`, `/caches/blobs/*`). The job never talks to the orchestrator
// itself: in twirp answers every signed URL is rewritten from the orchestrator's address to the
// job services' (the signature covers path and query, not the host). The runtime token is the
// job's own bearer, checked by the orchestrator; the agent adds nothing of its own.
import http from "node:http";
import https from "node:https";

/** Paths a job may reach through its job services' results proxy. */
export function isResultsPath(pathname: string): boolean {
  return (
    /^\/twirp\/github\.actions\.results\.api\.v1\.(ArtifactService|CacheService)\/[A-Za-z]+$/.test(
      pathname,
    ) || /^\/(artifacts|caches)\/blobs\/[A-Za-z0-9._-]+$/.test(pathname)
  );
}

/** Request headers the toolkit's clients (and the Azure blob SDK) send that the services read. */
const REQUEST_HEADERS = ["authorization", "content-type", "content-length", "range", "accept", "if-match"];
/** Answer headers passed back. */
const ANSWER_HEADERS = [
  "content-type",
  "content-length",
  "content-range",
  "content-md5",
  "accept-ranges",
  "etag",
  "last-modified",
  "cache-control",
  "date",
];
/** Largest twirp answer rewritten in memory (lists of artifacts are small). */
const MAX_TWIRP_ANSWER = 4 * 1024 * 1024;
/** No byte either way for this long ends the request (uploads of large blocks keep bytes flowing). */
const IDLE_MS = 120_000;

export interface ResultsProxyOptions {
  /** The orchestrator's http(s) base (no trailing slash). */
  server: string;
  /** The job services' URL as the machine sees it, once the machine exists. */
  servicesUrl(): string | undefined;
}

/** Rewrites the signed URLs in a twirp answer to go through the job services. */
export function rewriteSignedUrls(body: unknown, servicesUrl: string): unknown {
  if (Array.isArray(body)) return body.map((v) => rewriteSignedUrls(v, servicesUrl));
  if (body === null || typeof body !== "object") return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string" && /url$/i.test(k) && /^https?:\/\//.test(v)) {
      const u = new URL(v);
      out[k] = isResultsPath(u.pathname) ? `${servicesUrl}${u.pathname}${u.search}` : v;
    } else out[k] = rewriteSignedUrls(v, servicesUrl);
  }
  return out;
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify({ code: "unavailable", msg: message }));
}

/** Carries one request of the job to the orchestrator and its answer back. */
export function proxyResults(
  o: ResultsProxyOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(`${o.server}${url.pathname}${url.search}`);
    const headers: http.OutgoingHttpHeaders = {};
    for (const h of REQUEST_HEADERS) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    for (const [h, v] of Object.entries(req.headers)) if (h.startsWith("x-ms-")) headers[h] = v;
    const twirp = url.pathname.startsWith("/twirp/");
    const client = target.protocol === "https:" ? https : http;
    const up = client.request(target, { method: req.method, headers }, (answer) => {
      const status = answer.statusCode ?? 502;
      const back: http.OutgoingHttpHeaders = {};
      for (const h of ANSWER_HEADERS) if (answer.headers[h] !== undefined) back[h] = answer.headers[h];
      for (const [h, v] of Object.entries(answer.headers)) if (h.startsWith("x-ms-")) back[h] = v;
      const services = o.servicesUrl();
      if (!twirp || status !== 200 || services === undefined) {
        res.writeHead(status, back);
        answer.pipe(res);
        answer.once("end", () => resolve());
        answer.once("error", () => {
          res.destroy();
          resolve();
        });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_TWIRP_ANSWER) {
          answer.destroy();
          fail(res, 502, "the orchestrator's answer is too large");
          resolve();
          return;
        }
        chunks.push(c);
      });
      answer.once("error", () => {
        fail(res, 502, "the orchestrator's answer broke off");
        resolve();
      });
      answer.once("end", () => {
        if (size > MAX_TWIRP_ANSWER) return;
        let text: string;
        try {
          text = JSON.stringify(
            rewriteSignedUrls(JSON.parse(Buffer.concat(chunks).toString("utf8")), services),
          );
        } catch {
          fail(res, 502, "the orchestrator's answer is not JSON");
          resolve();
          return;
        }
        delete back["content-length"];
        res.writeHead(200, { ...back, "content-length": Buffer.byteLength(text) });
        res.end(text);
        resolve();
      });
    });
    up.setTimeout(IDLE_MS, () => up.destroy(new Error("no progress")));
    up.once("error", (err) => {
      fail(res, 502, `the orchestrator could not be reached: ${err.message}`);
      resolve();
    });
    req.once("aborted", () => up.destroy());
    req.pipe(up);
  });
}
