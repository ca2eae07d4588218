// Public face of the egress proxy: the allow-list (policy), the address checks, and the proxy the
// agent (or a local `airlock run`) runs on the host side, one unix-socket session per machine.
// Machines have no network but their loopback; a relay inside (native/airlock-relay.c) carries
// the job's proxy connections to its session. See /docs/isolation.md (egress).
export {
  parseAllowList,
  parseAllowEntry,
  unionAllowLists,
  isAllowed,
  parseTarget,
  MAX_ALLOW_ENTRIES,
  type AllowList,
  type AllowRule,
  type Target,
} from "./policy.js";
export { forbiddenReason, parseCidr, type Cidr } from "./address.js";
export { readClientHello, type HelloResult } from "./sni.js";
export { createResolver, type ResolverOptions } from "./resolve.js";
export { recordLine, type EgressRecord } from "./record.js";
export {
  createEgressProxy,
  parseDenyList,
  type EgressProxy,
  type EgressProxyOptions,
  type EgressSession,
} from "./proxy.js";
export { DEFAULT_LIMITS, type SessionLimits } from "./session.js";
export { nodeEgress, type EgressSettings, type NodeEgress } from "./node.js";
