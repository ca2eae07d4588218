// Plain HTTP through the proxy: absolute-URI requests (`GET http://host/path`). The request goes
// to the checked address with Host set to the URL's host (a different Host header could reach
// another site behind the same address), without hop-by-hop and proxy headers; the answer
// comes back the same way. Anything else (origin-form, https:// URIs, upgrades) is refused.
import { request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { parseTarget } from "./policy.js";
import { printable } from "./record.js";
import type { SessionContext } from "./session.js";
import { connectFirst } from "./upstream.js";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function connectionTokens(raw: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== "connection") continue;
    for (const t of raw[i + 1]!.split(",")) out.add(t.trim().toLowerCase());
  }
  return out;
}

function headersWithout(raw: string[]): OutgoingHttpHeaders {
  const named = connectionTokens(raw);
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (HOP.has(k) || named.has(k)) continue;
    (out[k] ??= []).push(raw[i + 1]!);
  }
  return out;
}

export async function handleForward(ctx: SessionContext, req: IncomingMessage, res: ServerResponse) {
  const method = req.method ?? "GET";
  let url: URL | undefined;
  try {
    url = new URL(req.url ?? "");
  } catch {
    url = undefined;
  }
  const refuse = (status: number, shown: string, reason: string): void => {
    ctx.record({ decision: "refused", method, target: shown, reason });
    res.writeHead(status, { "content-type": "text/plain", connection: "close" });
    res.end(`airlock egress: refused ${shown} (${reason})\n`);
  };
  if (!url || url.protocol !== "http:") {
    const why = url?.protocol === "https:" ? "https:// needs CONNECT" : "not an absolute http:// URL";
    return refuse(400, printable(req.url ?? ""), why);
  }
  const port = url.port === "" ? 80 : Number(url.port);
  const target = parseTarget(url.hostname, port);
  const shown = `${url.hostname}:${port}`;
  if (!target) return refuse(400, printable(shown), "malformed host");
  const d = await ctx.decide(target);
  if (!d.ok) return refuse(403, shown, d.reason);
  let upstream;
  try {
    upstream = await connectFirst(d.addresses, port, ctx.connectTimeoutMs);
  } catch (e) {
    return refuse(502, shown, `could not connect: ${(e as { code?: string }).code ?? "error"}`);
  }
  const sock = upstream.socket;
  ctx.track(sock);
  sock.setTimeout(ctx.idleTimeoutMs, () => sock.destroy());
  ctx.record({ decision: "allowed", method, target: shown, address: upstream.address });
  const out = request({
    createConnection: () => sock,
    method,
    path: `${url.pathname}${url.search}`,
    headers: { ...headersWithout(req.rawHeaders), host: url.host },
    setHost: false,
  });
  out.on("response", (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, headersWithout(up.rawHeaders));
    up.pipe(res);
    up.on("error", () => res.destroy());
  });
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" });
    res.destroy();
  });
  res.on("close", () => sock.destroy());
  req.pipe(out);
}
