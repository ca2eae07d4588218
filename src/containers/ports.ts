// `ports:` of a service as Docker writes them (`80`, `8080:80`, `80/udp`), read once for the
// planner (which refuses malformed entries), the provisioner (which publishes a different host-side
// port inside the job's network namespace) and the job context (`job.services.<id>.ports`).
// All of a job's containers share one network namespace, so a service's container port answers
// on localhost and by the service's name as it is; `8080:80` adds 8080 as a second way in.
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface PortMapping {
  /** The port the job reaches the service at (the container port when none was given). */
  host: number;
  container: number;
  protocol: "tcp" | "udp";
}

const PORT = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/;

/** Ports inside every machine that belong to Airlock's relays (egress proxy, job services). */
export const RESERVED_PORTS: ReadonlySet<number> = new Set([3128, 3129]);

function valid(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** One entry, or a CONTAINER_OPTION_REFUSED error naming `what` and the rule it broke. */
export function parsePort(entry: string, what: string): PortMapping {
  const text = entry.trim();
  const m = PORT.exec(text);
  const container = Number(m?.[2]);
  const host = m?.[1] === undefined ? container : Number(m[1]);
  if (!m || !valid(container) || !valid(host))
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `${what}: port ${JSON.stringify(text.slice(0, 40))} is not valid: expected [host-port:]container-port[/tcp|udp]`,
    );
  const protocol = m[3] === "udp" ? "udp" : "tcp";
  if (host !== container && protocol === "udp")
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `${what}: port ${JSON.stringify(text)}: a UDP port can only be published as itself (the job shares the service's network)`,
    );
  if (host !== container && RESERVED_PORTS.has(host))
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `${what}: port ${JSON.stringify(text)}: host port ${host} is Airlock's own inside the machine`,
    );
  return { host, container, protocol };
}

/** `job.services.<id>.ports`: container port → the port the job reaches it at. */
export function portsContext(ports: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of ports) {
    const m = parsePort(p, what);
    out[String(m.container)] = String(m.host);
  }
  return out;
}
