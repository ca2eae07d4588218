// The egress options shared by `airlock agent` and `airlock run`: the operator's allow-list, deny
// list and resolver, added to what AIRLOCK_EGRESS_* already give. One definition for both commands.
import type { Command } from "commander";
import type { AirlockOptions } from "../config/index.js";
import { nodeEgress } from "../egress/index.js";

export interface EgressCommandOptions {
  egressAllow?: string[];
  egressDeny?: string[];
  egressDns?: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addEgressOptions(command: Command): Command {
  return command
    .option(
      "--egress-allow <host:port>",
      "let jobs reach host:port (*.domain:port, ip:port) through the egress proxy (repeatable; default: no network)",
      collect,
      [],
    )
    .option("--egress-deny <ip/cidr>", "never let jobs reach these addresses (repeatable)", collect, [])
    .option(
      "--egress-dns <ip[:port]>",
      "DNS server of the egress proxy (repeatable; default: the system's)",
      collect,
      [],
    );
}

/** The node's egress: the environment's settings plus the command line's. */
export function commandEgress(
  options: AirlockOptions,
  o: EgressCommandOptions,
): ReturnType<typeof nodeEgress> {
  return nodeEgress(
    {
      allow: [...options.egress.allow, ...(o.egressAllow ?? [])],
      deny: [...options.egress.deny, ...(o.egressDeny ?? [])],
      dns: [...options.egress.dns, ...(o.egressDns ?? [])],
    },
    options.machinesDir,
  );
}
