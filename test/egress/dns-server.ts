// A tiny real DNS server (UDP, node:dgram) for the egress tests: answers A and AAAA queries for
// the names it was given, NXDOMAIN for the rest. Enough of RFC 1035 for c-ares, nothing more.
import { createSocket, type Socket } from "node:dgram";
import { isIPv4 } from "node:net";

export interface DnsServer {
  /** `127.0.0.1:<port>`, for the proxy's resolver servers. */
  address: string;
  close(): Promise<void>;
}

export async function startDnsServer(records: Record<string, string[]>): Promise<DnsServer> {
  const sock: Socket = createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    const reply = answer(msg, records);
    if (reply) sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${sock.address().port}`,
    close: () => new Promise((r) => sock.close(() => r())),
  };
}

function answer(msg: Buffer, records: Record<string, string[]>): Buffer | undefined {
  if (msg.length < 12) return undefined;
  let off = 12;
  const labels: string[] = [];
  while (off < msg.length && msg[off] !== 0) {
    const len = msg[off]!;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString("latin1"));
    off += 1 + len;
  }
  off += 1;
  if (off + 4 > msg.length) return undefined;
  const qtype = msg.readUInt16BE(off);
  const question = msg.subarray(12, off + 4);
  const name = labels.join(".").toLowerCase();
  const known = records[name];
  const want = known?.filter((a) => (qtype === 1 ? isIPv4(a) : qtype === 28 ? !isIPv4(a) : false)) ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2); // response, RD+RA, NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(want.length, 6);
  const answers = want.map((a) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(5, 6);
    const data = isIPv4(a) ? Buffer.from(a.split(".").map(Number)) : ipv6(a);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, question, ...answers]);
}

function ipv6(a: string): Buffer {
  const [h, t] = a.split("::");
  const parts = (s: string | undefined) => (s ? s.split(":") : []);
  const head = parts(h);
  const tail = parts(t);
  const words = [...head, ...new Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}
