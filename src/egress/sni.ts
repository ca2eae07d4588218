// Reads the server name (SNI) from the first bytes a client sends through a CONNECT tunnel, so the
// proxy can refuse a TLS connection whose ClientHello names another host than the CONNECT
// request did (domain fronting to an allowed address). Bounded: a ClientHello larger than
// MAX_HELLO_BYTES is invalid. Handles a handshake message split over several TLS records and
// bytes that arrive in pieces ("need-more").
export type HelloResult =
  | { state: "need-more" }
  | { state: "not-tls" }
  | { state: "invalid"; why: string }
  | { state: "hello"; serverName: string | undefined };

export const MAX_HELLO_BYTES = 64 * 1024;
const RECORD_HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;

export function readClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return { state: "need-more" };
  if (buf[0] !== RECORD_HANDSHAKE) return { state: "not-tls" };
  // Gather the handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  let need: number | undefined;
  while (need === undefined || have < need) {
    if (off + 5 > buf.length) return more(buf);
    if (buf[off] !== RECORD_HANDSHAKE) return { state: "invalid", why: "ClientHello interrupted" };
    if (buf[off + 1] !== 0x03) return { state: "invalid", why: "not a TLS record" };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0) return { state: "invalid", why: "empty TLS record" };
    if (off + 5 + len > buf.length) return more(buf);
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need === undefined && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== CLIENT_HELLO) return { state: "invalid", why: "not a ClientHello" };
      need = 4 + hs.readUIntBE(1, 3);
      if (need > MAX_HELLO_BYTES) return { state: "invalid", why: "ClientHello too large" };
    }
  }
  try {
    return { state: "hello", serverName: serverName(Buffer.concat(parts).subarray(4, need)) };
  } catch (e) {
    return { state: "invalid", why: e instanceof Error ? e.message : "malformed ClientHello" };
  }
}

function more(buf: Buffer): HelloResult {
  return buf.length >= MAX_HELLO_BYTES + 5 * 16
    ? { state: "invalid", why: "ClientHello too large" }
    : { state: "need-more" };
}

/** A bounds-checked reader: any read past the end throws. */
class Reader {
  constructor(
    private readonly b: Buffer,
    public off = 0,
  ) {}
  get left(): number {
    return this.b.length - this.off;
  }
  take(n: number): Buffer {
    if (n > this.left) throw new Error("malformed ClientHello");
    const out = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8(): number {
    return this.take(1).readUInt8(0);
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
}

function serverName(body: Buffer): string | undefined {
  const r = new Reader(body);
  r.take(2 + 32); // legacy_version, random
  r.take(r.u8()); // session id
  r.take(r.u16()); // cipher suites
  r.take(r.u8()); // compression methods
  if (r.left === 0) return undefined; // no extensions at all
  const exts = new Reader(r.take(r.u16()));
  if (r.left !== 0) throw new Error("trailing bytes after the ClientHello extensions");
  let found: string | undefined;
  let seen = false;
  while (exts.left > 0) {
    const type = exts.u16();
    const data = exts.take(exts.u16());
    if (type !== EXT_SERVER_NAME) continue;
    if (seen) throw new Error("two server_name extensions");
    seen = true;
    const list = new Reader(data);
    const names = new Reader(list.take(list.u16()));
    if (list.left !== 0) throw new Error("malformed server_name extension");
    while (names.left > 0) {
      const kind = names.u8();
      const name = names.take(names.u16());
      if (kind !== 0) continue;
      if (found !== undefined) throw new Error("two host names in server_name");
      // Printable ASCII only: anything else cannot equal a host name we accepted.
      if (name.length === 0 || !name.every((c) => c > 0x20 && c < 0x7f)) throw new Error("bad server name");
      found = name.toString("latin1");
    }
  }
  return found;
}
