// The allow-list: which destinations a job's traffic may go to. Entries are `host:port`,
// `*.example.org:443` (a wildcard matches one or more labels below example.org, never
// example.org itself), `198.51.100.7:80` and `[2001:db8::7]:443`. A name entry never matches an
// IP literal target nor the other way round: there is no reverse lookup. Every entry needs a
// port. Parsing collects every problem; matching is a pure function.
import { isIP } from "node:net";
import { forbiddenReason, ipBytes } from "./address.js";

export type AllowRule =
  | { kind: "name"; host: string; port: number }
  | { kind: "suffix"; suffix: string; port: number }
  | { kind: "ip"; ip: string; port: number };

export interface AllowList {
  rules: AllowRule[];
  /** The entries as given, normalised (for records and diagnostics). */
  entries: string[];
}

export interface Target {
  /** Lower-case name without a trailing dot, or an IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  isIp: boolean;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
export const MAX_ALLOW_ENTRIES = 256;

/** A DNS name as a proxy accepts it, lower-cased; undefined for anything else. */
export function normaliseName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, "");
  if (n.length === 0 || n.length > 253) return undefined;
  const labels = n.split(".");
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  // "2130706433" or "0x7f.1" would be read as addresses by some resolvers: never a name.
  if (/^(0x[0-9a-f]*|\d+)$/.test(labels[labels.length - 1]!)) return undefined;
  return n;
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Splits `host:port` / `[v6]:port`; the host is not validated yet. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = parsePort(m[2]);
  return port === undefined ? undefined : { host: m[1]!, port };
}

/** A connection target from a CONNECT authority or a URL's host and port; undefined when malformed. */
export function parseTarget(host: string, port: number): Target | undefined {
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) return undefined;
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return ipBytes(bare) ? { host: bare.toLowerCase(), port, isIp: true } : undefined;
  if (bare !== host) return undefined;
  const name = normaliseName(host);
  return name === undefined ? undefined : { host: name, port, isIp: false };
}

/** Parses one entry, or says why it is not one. */
export function parseAllowEntry(entry: string): AllowRule | string {
  const text = entry.trim();
  const hp = splitHostPort(text);
  if (!hp) return `"${entry}": expected host:port, *.domain:port, ip:port or [ipv6]:port`;
  if (hp.host.startsWith("*.")) {
    const suffix = normaliseName(hp.host.slice(2));
    if (suffix === undefined) return `"${entry}": not a valid domain after "*."`;
    if (!suffix.includes(".")) return `"${entry}": a wildcard needs at least two labels (*.example.org)`;
    return { kind: "suffix", suffix, port: hp.port };
  }
  if (isIP(hp.host) !== 0) {
    if (isIP(hp.host) === 6 && !text.startsWith("[")) return `"${entry}": write IPv6 as [address]:port`;
    const why = forbiddenReason(hp.host);
    if (why !== undefined) return `"${entry}": ${why} is always refused`;
    return { kind: "ip", ip: hp.host.toLowerCase(), port: hp.port };
  }
  const host = normaliseName(hp.host);
  if (host === undefined) return `"${entry}": not a valid host name`;
  return { kind: "name", host, port: hp.port };
}

export function formatRule(r: AllowRule): string {
  if (r.kind === "name") return `${r.host}:${r.port}`;
  if (r.kind === "suffix") return `*.${r.suffix}:${r.port}`;
  return r.ip.includes(":") ? `[${r.ip}]:${r.port}` : `${r.ip}:${r.port}`;
}

/** Parses entries, collecting every problem (none: `problems` is empty). Duplicates collapse. */
export function parseAllowList(entries: readonly string[]): { list: AllowList; problems: string[] } {
  const problems: string[] = [];
  const seen = new Map<string, AllowRule>();
  if (entries.length > MAX_ALLOW_ENTRIES) problems.push(`at most ${MAX_ALLOW_ENTRIES} entries`);
  for (const e of entries.slice(0, MAX_ALLOW_ENTRIES)) {
    const r = parseAllowEntry(e);
    if (typeof r === "string") problems.push(r);
    else seen.set(formatRule(r), r);
  }
  return { list: { rules: [...seen.values()], entries: [...seen.keys()] }, problems };
}

/** The union of several lists (node ∪ repository). */
export function unionAllowLists(...lists: AllowList[]): AllowList {
  const all = new Map<string, AllowRule>();
  for (const l of lists) for (const r of l.rules) all.set(formatRule(r), r);
  return { rules: [...all.values()], entries: [...all.keys()] };
}

export function isAllowed(list: AllowList, t: Target): boolean {
  return list.rules.some((r) => {
    if (r.port !== t.port) return false;
    if (r.kind === "ip") return t.isIp && sameIp(r.ip, t.host);
    if (t.isIp) return false;
    if (r.kind === "name") return r.host === t.host;
    return t.host.endsWith(`.${r.suffix}`);
  });
}

function sameIp(a: string, b: string): boolean {
  const x = ipBytes(a);
  const y = ipBytes(b);
  return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}
