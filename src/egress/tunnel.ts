// HTTPS through the proxy: `CONNECT host:port`. After the allow-list and address checks pass and
// the upstream connection is open, the client gets `200` and its first bytes are read before a
// single byte travels on: a TLS ClientHello must name the CONNECT host (SNI), or carry no name
// when the target is an IP literal; a malformed or oversized ClientHello, or silence, is refused.
// Non-TLS client-first protocols pass (the destination was checked all the same).
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { normaliseName, parseTarget, splitHostPort } from "./policy.js";
import { printable } from "./record.js";
import { readClientHello } from "./sni.js";
import type { SessionContext } from "./session.js";
import { connectFirst } from "./upstream.js";

export async function handleConnect(ctx: SessionContext, req: IncomingMessage, client: Socket, head: Buffer) {
  ctx.track(client);
  const raw = req.url ?? "";
  const hp = splitHostPort(raw);
  const target = hp && parseTarget(hp.host, hp.port);
  const shown = target
    ? `${target.isIp && target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`
    : printable(raw);
  const refuse = (status: string, reason: string): void => {
    ctx.record({ decision: "refused", method: "CONNECT", target: shown, reason });
    if (client.writable) {
      client.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n` +
          `airlock egress: refused ${shown} (${reason})\n`,
      );
    }
    client.destroy();
  };
  if (!target) return refuse("400 Bad Request", "malformed CONNECT target");
  const d = await ctx.decide(target);
  if (!d.ok) return refuse("403 Forbidden", d.reason);
  let upstream;
  try {
    upstream = await connectFirst(d.addresses, target.port, ctx.connectTimeoutMs);
  } catch (e) {
    return refuse("502 Bad Gateway", `could not connect: ${(e as { code?: string }).code ?? "error"}`);
  }
  const up = upstream.socket;
  ctx.track(up);
  if (client.destroyed) return void up.destroy();
  client.write("HTTP/1.1 200 Connection Established\r\n\r\n");

  const first = await firstBytes(client, head, ctx.helloTimeoutMs);
  const hello = first === undefined ? undefined : readClientHello(first);
  let why: string | undefined;
  let note: string | undefined;
  if (first === undefined) why = "the client sent nothing";
  else if (hello?.state === "invalid") why = `bad TLS ClientHello: ${hello.why}`;
  else if (hello?.state === "need-more") why = "incomplete TLS ClientHello";
  else if (hello?.state === "not-tls") note = "not TLS";
  else if (hello?.state === "hello") {
    const sni = hello.serverName;
    if (sni === undefined && !target.isIp) why = "TLS ClientHello names no server";
    else if (sni !== undefined && normaliseName(sni) !== target.host) {
      why = `TLS server name ${printable(sni, 100)} does not match the CONNECT host`;
    }
  }
  if (why !== undefined || first === undefined) {
    up.destroy();
    ctx.record({ decision: "refused", method: "CONNECT", target: shown, reason: why ?? "no data" });
    client.destroy();
    return;
  }
  ctx.record({
    decision: "allowed",
    method: "CONNECT",
    target: shown,
    address: upstream.address,
    ...(note ? { reason: note } : {}),
  });
  up.write(first);
  client.pipe(up);
  up.pipe(client);
  const close = (): void => {
    client.destroy();
    up.destroy();
  };
  for (const s of [client, up]) {
    s.setTimeout(ctx.idleTimeoutMs, close);
    s.on("error", close);
    s.on("close", close);
  }
}

/** The client's first bytes, enough for readClientHello to decide; undefined on silence or close. */
function firstBytes(s: Socket, head: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let buf = head;
    const finish = (v: Buffer | undefined): void => {
      clearTimeout(timer);
      s.pause();
      s.off("data", onData);
      s.off("close", onClose);
      resolve(v);
    };
    const check = (): boolean => {
      if (buf.length === 0 || readClientHello(buf).state === "need-more") return false;
      finish(buf);
      return true;
    };
    const onData = (b: Buffer): void => {
      buf = Buffer.concat([buf, b]);
      check();
    };
    const onClose = (): void => finish(undefined);
    const timer = setTimeout(() => finish(buf.length > 0 ? buf : undefined), timeoutMs);
    if (check()) return;
    s.on("data", onData);
    s.once("close", onClose);
    s.resume();
  });
}
