// Name resolution for the proxy, the only resolver a job's traffic ever uses (the machine has
// none). With `servers` set (ip or ip:port, e.g. a test's own DNS server) it asks them directly
// for A and AAAA records; without, it uses the system's resolver (getaddrinfo, so /etc/hosts
// counts). Bounded in time; every failure is an empty answer plus a reason, never a throw.
import { promises as dns } from "node:dns";
import { isIP } from "node:net";

export interface ResolverOptions {
  /** DNS servers (`ip` or `ip:port`, `[v6]:port`); empty or undefined: the system's resolver. */
  servers?: readonly string[];
  /** Whole lookup budget; default 5 s. */
  timeoutMs?: number;
}

export type Resolution = { addresses: string[] } | { addresses: []; error: string };
export type ResolveFn = (name: string) => Promise<Resolution>;

export function createResolver(o: ResolverOptions = {}): ResolveFn {
  const timeoutMs = o.timeoutMs ?? 5000;
  let lookup: (name: string) => Promise<string[]>;
  if (o.servers && o.servers.length > 0) {
    const r = new dns.Resolver({ timeout: Math.max(500, Math.floor(timeoutMs / 2)), tries: 1 });
    r.setServers([...o.servers]);
    lookup = async (name) => {
      const answers = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
      const found = answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
      if (found.length > 0) return found;
      const failure = answers.find((a): a is PromiseRejectedResult => a.status === "rejected");
      throw failure?.reason ?? new Error("no addresses");
    };
  } else {
    lookup = async (name) => (await dns.lookup(name, { all: true, verbatim: true })).map((a) => a.address);
  }
  return async (name) => {
    if (isIP(name) !== 0) return { addresses: [name] };
    let timer: NodeJS.Timeout | undefined;
    try {
      const addresses = await Promise.race([
        lookup(name),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("DNS timeout")), timeoutMs);
        }),
      ]);
      const valid = [...new Set(addresses)].filter((a) => isIP(a) !== 0);
      return valid.length > 0 ? { addresses: valid } : { addresses: [], error: "no addresses" };
    } catch (e) {
      const code = (e as { code?: string }).code;
      return { addresses: [], error: code ?? (e instanceof Error ? e.message : "lookup failed") };
    } finally {
      clearTimeout(timer);
    }
  };
}
