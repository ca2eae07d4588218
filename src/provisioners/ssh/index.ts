// SSH provisioner: machines on fixed hosts the operator added (`airlock agent ssh-host add`), for
// hardware that cannot be virtualised. NOT isolation: jobs share the host's kernel, its files
// outside the machine's folder, its network and its user (docs/isolation.md says what this means).
//
// Health: a host whose key does not match its pinned one is marked unhealthy on disk (hosts.ts);
// create() then places no job there and, when no healthy host is left, refuses with
// HOST_KEY_MISMATCH naming the hosts and why. `sshHostHealth` gives the same to the CLI.
// Hosts are read from the store at every create(), so an operator's re-pin takes effect at once.
// Each host takes `jobs` machines at once (default 1); create() waits for a free one.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Machine, MachineSpec, Provisioner } from "../types.js";
import { hasLimits } from "../common/limits.js";
import { call } from "./call.js";
import { HostStore, type SshHost } from "./hosts.js";
import { SshMachine } from "./machine.js";
import { request } from "./protocol.js";
import { stopControl } from "./ssh.js";

export {
  DEFAULT_BASE_DIR,
  DEFAULT_NODE_PATH,
  fingerprints,
  HostStore,
  parseAddress,
  parseHostKeys,
  scanHostKeys,
  type HostHealth,
  type SshHost,
} from "./hosts.js";

export interface SshProvisionerOptions {
  /** The agent's data folder: hosts and pinned keys are in `<dataDir>/ssh`. */
  dataDir: string;
  /** One-line warnings for the operator (default: stderr). */
  warn?(line: string): void;
}

export function createSshProvisioner(opts: SshProvisionerOptions): Provisioner {
  const store = new HostStore(opts.dataDir);
  const busy = new Map<string, number>();
  let waiters: (() => void)[] = [];
  let closed = false;
  let warned = false;
  /** Private 0700 folder for the machines' control sockets (short: a socket path has ~100 bytes). */
  let controlDir: string | undefined;
  const warn = (line: string): void => (opts.warn ? opts.warn(line) : void process.stderr.write(`${line}\n`));
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  /** A healthy host with a free slot, taken; or undefined when all healthy ones are busy. */
  function pick(): SshHost | undefined {
    const hosts = store.list();
    if (hosts.length === 0)
      throw new AirlockError(
        ErrorCode.CONFIG_INVALID,
        "no ssh hosts on this node: add one with airlock agent ssh-host add",
      );
    const healthy = hosts.filter((h) => store.health(h.name).healthy);
    if (healthy.length === 0) {
      const why = hosts.map((h) => `${h.name}: ${store.health(h.name).reason ?? "unhealthy"}`).join("; ");
      throw new AirlockError(
        ErrorCode.HOST_KEY_MISMATCH,
        `no healthy ssh host (${why}); re-pin with airlock agent ssh-host pin <name>`,
      );
    }
    const free = healthy.find((h) => (busy.get(h.name) ?? 0) < h.jobs);
    if (free) busy.set(free.name, (busy.get(free.name) ?? 0) + 1);
    return free;
  }

  function release(name: string): void {
    busy.set(name, Math.max(0, (busy.get(name) ?? 1) - 1));
    wake();
  }

  return {
    name: "ssh",
    describe(): Promise<string> {
      const hosts = store.list();
      const healthy = hosts.filter((h) => store.health(h.name).healthy).length;
      return Promise.resolve(
        `fixed SSH hosts, not isolation and not single-use: ${hosts.length} host(s), ${healthy} healthy, keys pinned`,
      );
    },
    async create(spec: MachineSpec): Promise<Machine> {
      if (spec.jobContainer)
        throw new AirlockError(
          ErrorCode.MACHINE_UNSUPPORTED,
          "job containers need the container provisioner",
        );
      if (!warned && (hasLimits(spec.limits) || spec.egress || spec.services)) {
        warned = true;
        warn(
          "airlock: ssh hosts enforce no machine limits, no egress control and offer no job services: jobs there use the host's own (docs/isolation.md)",
        );
      }
      let host: SshHost | undefined;
      for (;;) {
        if (closed) throw new AirlockError(ErrorCode.MACHINE_FAILED, "the ssh provisioner is closed");
        host = pick();
        if (host) break;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      const remoteId = `m-${randomBytes(8).toString("hex")}`;
      controlDir ??= mkdtempSync(path.join(os.tmpdir(), "airlock-ssh-"));
      const controlPath = path.join(controlDir, remoteId);
      const t = { host, store, control: { path: controlPath, master: false } };
      try {
        // The first call starts the machine's master connection; the machine's calls share it.
        const frames = await call(
          { ...t, control: { path: controlPath, master: true } },
          request("mk", host.baseDir, remoteId),
        );
        const root = frames[frames.length - 1]!.data.toString("utf8");
        return new SshMachine(
          `ssh-${host.name}-${remoteId.slice(2)}`,
          t,
          remoteId,
          root,
          (e) => warn(`airlock: ${e.message}`),
          () => release(host.name),
        );
      } catch (e) {
        await stopControl(host, controlPath);
        release(host.name);
        throw e;
      }
    },
    close(): Promise<void> {
      closed = true;
      wake();
      // Machines still alive keep their sockets' folder; with none, it goes (a master that was
      // just told to exit may not have removed its socket yet).
      if (controlDir && [...busy.values()].every((n) => n === 0))
        rmSync(controlDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** Every host of the node with its health, for `airlock agent ssh-host list`. */
export function sshHostHealth(
  dataDir: string,
): { host: SshHost; healthy: boolean; reason?: string; since?: string }[] {
  const store = new HostStore(dataDir);
  return store.list().map((host) => ({ host, ...store.health(host.name) }));
}
