// One decision: may a job connect to this target, and to which address? The target must be on
// the allow-list; its name is resolved here (the only resolver the job's traffic has); EVERY
// address it resolves to must pass the address checks, or the connection is refused (an allowed
// name pointing at 127.0.0.1 or 169.254.169.254 is DNS rebinding, not an accident). The caller
// connects to the returned addresses only: there is no second lookup to race with.
import { networkInterfaces } from "node:os";
import { forbiddenReason, parseCidr, type Cidr } from "./address.js";
import { isAllowed, type AllowList, type Target } from "./policy.js";
import type { ResolveFn } from "./resolve.js";

export type Decision = { ok: true; addresses: string[] } | { ok: false; reason: string };

export interface DecideContext {
  resolve: ResolveFn;
  /** The operator's deny list. */
  deny: readonly Cidr[];
  /** Refuse the node's own interface addresses (services bound to 0.0.0.0). Default true. */
  denyOwnAddresses: boolean;
}

export async function decide(list: AllowList, t: Target, ctx: DecideContext): Promise<Decision> {
  try {
    if (!isAllowed(list, t)) return { ok: false, reason: "not on the allow-list" };
    const res = await ctx.resolve(t.host);
    if (res.addresses.length === 0) {
      return { ok: false, reason: `does not resolve (${"error" in res ? res.error : "no addresses"})` };
    }
    const deny = ctx.denyOwnAddresses ? [...ctx.deny, ...ownAddresses()] : ctx.deny;
    for (const a of res.addresses) {
      const why = forbiddenReason(a, deny);
      if (why !== undefined) {
        return { ok: false, reason: `${t.isIp ? "is" : "resolves to"} ${why} ${a}` };
      }
    }
    // IPv4 first: test and many CI networks have no IPv6 route.
    const v4 = res.addresses.filter((a) => !a.includes(":"));
    const v6 = res.addresses.filter((a) => a.includes(":"));
    return { ok: true, addresses: [...v4, ...v6] };
  } catch {
    return { ok: false, reason: "policy error" };
  }
}

function ownAddresses(): Cidr[] {
  const out: Cidr[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const c = parseCidr(a.address.split("%")[0]!, "an address of this node");
      if (c) out.push(c);
    }
  }
  return out;
}
