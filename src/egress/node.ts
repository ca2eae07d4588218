// A node's (or a local run's) egress configuration, compiled once: the pool's allow-list, the
// deny list and the resolver servers, from settings (AIRLOCK_EGRESS_*) plus command-line flags.
// Every problem is reported at once, naming the setting; nothing starts with a bad list.
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { parseAllowList, type AllowList } from "./policy.js";
import { createEgressProxy, parseDenyList, type EgressProxy } from "./proxy.js";

export interface EgressSettings {
  /** The pool's allow-list (`host:port`, `*.domain:port`, `ip:port`, `[ipv6]:port`). */
  allow: readonly string[];
  /** Addresses or ranges never to reach, on top of the built-in ones. */
  deny: readonly string[];
  /** DNS servers of the proxy (`ip` or `ip:port`); empty: the system's resolver. */
  dns: readonly string[];
}

export interface NodeEgress {
  /** The pool's list; a repository's list is added to it per job. */
  allow: AllowList;
  proxy: EgressProxy;
}

export function nodeEgress(s: EgressSettings, machinesDir: string): NodeEgress {
  const { list, problems } = parseAllowList(s.allow);
  const denied = parseDenyList(s.deny).problems;
  const dns = s.dns.filter((d) => !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d{1,5})?$/.test(d));
  const all = [
    ...problems.map((p) => `egress allow ${p}`),
    ...denied.map((p) => `egress deny ${p}`),
    ...dns.map((d) => `egress DNS server "${d}": expected ip or ip:port`),
  ];
  if (all.length > 0) throw new AirlockError(ErrorCode.CONFIG_INVALID, all.join("; "));
  const proxy = createEgressProxy({
    socketDir: path.join(machinesDir, "egress"),
    deny: s.deny,
    ...(s.dns.length > 0 ? { resolver: { servers: s.dns } } : {}),
  });
  return { allow: list, proxy };
}
