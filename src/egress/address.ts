// Which IP addresses a job's connection may never reach, whatever name led to them: loopback,
// private and shared ranges, link-local (cloud metadata at 169.254.169.254), ULA, multicast,
// unspecified, broadcast and reserved space, IPv6 forms that embed one of those IPv4 addresses
// (IPv4-mapped, NAT64, 6to4), plus an operator's deny list (the orchestrator's database, the
// node's own services). Pure functions over parsed bytes: no DNS, no sockets.
import { isIP, isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  /** Why an address inside is refused ("a private address"). */
  reason: string;
}

/** Bytes of an IPv4 (4) or IPv6 (16) literal; undefined when it is not one (zone ids included). */
export function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  if (!isIPv6(ip) || ip.includes("%")) return undefined;
  let text = ip;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1]!.split(".").map(Number));
    text = `${text.slice(0, -v4[1]!.length)}0:0`;
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string | undefined): number[] =>
    s === undefined || s === "" ? [] : s.split(":").map((g) => parseInt(g, 16));
  const h = groups(head);
  const r = groups(rest);
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  if (words.length !== 8) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** Parses `ip` or `ip/prefix`; undefined when malformed. */
export function parseCidr(text: string, reason: string): Cidr | undefined {
  const [ip, p, extra] = text.trim().split("/");
  if (ip === undefined || extra !== undefined) return undefined;
  const bytes = ipBytes(ip);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const prefix = p === undefined ? max : /^\d{1,3}$/.test(p) ? Number(p) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { bytes, prefix, reason };
}

function inCidr(bytes: Uint8Array, c: Cidr): boolean {
  if (bytes.length !== c.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}

const table = (rows: Array<[string, string]>): Cidr[] => rows.map(([c, reason]) => parseCidr(c, reason)!);

const PRIVATE = "a private address";
const V4: Cidr[] = table([
  ["0.0.0.0/8", "an unspecified address"],
  ["10.0.0.0/8", PRIVATE],
  ["100.64.0.0/10", "a shared (CGNAT) address"],
  ["127.0.0.0/8", "a loopback address"],
  ["169.254.0.0/16", "a link-local address (cloud metadata)"],
  ["172.16.0.0/12", PRIVATE],
  ["192.0.0.0/24", "a reserved address"],
  ["192.168.0.0/16", PRIVATE],
  ["198.18.0.0/15", "a reserved address"],
  ["224.0.0.0/4", "a multicast address"],
  ["240.0.0.0/4", "a reserved or broadcast address"],
]);
const V6: Cidr[] = table([
  ["::/128", "an unspecified address"],
  ["::1/128", "a loopback address"],
  ["::/96", "a reserved address"],
  ["64:ff9b:1::/48", PRIVATE],
  ["100::/64", "a reserved address"],
  ["2001::/32", "a tunnel (Teredo) address"],
  ["fc00::/7", "a private (ULA) address"],
  ["fe80::/10", "a link-local address"],
  ["fec0::/10", "a site-local address"],
  ["ff00::/8", "a multicast address"],
]);
/** IPv6 prefixes that carry an IPv4 address: [prefix, offset of the IPv4 bytes]. */
const EMBEDDING: Array<[Cidr, number]> = [
  [parseCidr("::ffff:0:0/96", "")!, 12],
  [parseCidr("64:ff9b::/96", "")!, 12],
  [parseCidr("2002::/16", "")!, 2],
];

/**
 * Why `ip` must not be reached, or undefined when it may. Anything that is not a valid address is
 * refused too (fail closed). `deny` holds the operator's extra ranges.
 */
export function forbiddenReason(ip: string, deny: readonly Cidr[] = []): string | undefined {
  const bytes = ipBytes(ip);
  if (!bytes || isIP(ip) === 0) return "not a valid address";
  return reasonFor(bytes, deny);
}

function reasonFor(bytes: Uint8Array, deny: readonly Cidr[]): string | undefined {
  for (const c of bytes.length === 4 ? V4 : V6) if (inCidr(bytes, c)) return c.reason;
  for (const c of deny) if (inCidr(bytes, c)) return c.reason;
  if (bytes.length === 16) {
    for (const [prefix, at] of EMBEDDING) {
      if (inCidr(bytes, prefix)) return reasonFor(bytes.slice(at, at + 4), deny);
    }
  }
  return undefined;
}
