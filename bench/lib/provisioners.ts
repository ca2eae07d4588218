// The provisioners bench:provisioners compares: each starts its provisioner (or says in one line
// why it cannot run on this machine) and gives the spec of a machine on the debian-12 image.
import { randomBytes } from "node:crypto";
import { access, rm } from "node:fs/promises";
import path from "node:path";
import {
  HOST_ROOT,
  createContainerProvisioner,
  createSandboxProvisioner,
  createSshProvisioner,
  createVmProvisioner,
  type MachineLimits,
  type MachineSpec,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { HostStore, parseHostKeys } from "../../src/provisioners/ssh/index.js";
import { startSshd } from "./sshd.js";

export interface ContenderInput {
  /** A scratch folder of the run, removed at the end. */
  work: string;
  /** The debian-12 image's rootfs folder. */
  rootfs: string;
  limits: MachineLimits;
}

export interface Started {
  prov: Provisioner;
  spec: MachineSpec;
  close(): Promise<void>;
}

export interface Contender {
  name: string;
  /** Seconds per machine rather than milliseconds: measured in fewer rounds. */
  slow: boolean;
  /** A started provisioner, or why it is not available here. */
  start(input: ContenderInput): Promise<Started | string>;
  /** Lines to print under the tables (e.g. how the VM was accelerated). */
  notes?(): string[];
}

let vmLine: string | undefined;

async function onPath(bin: string): Promise<boolean> {
  for (const d of ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]) {
    if (
      await access(path.join(d, bin)).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

const imageSpec = (input: ContenderInput): MachineSpec => ({
  name: "bench",
  root: { kind: "image", path: input.rootfs },
  limits: input.limits,
});

export function contenders(): Contender[] {
  return [
    {
      name: "sandbox",
      slow: false,
      start(input) {
        const prov = createSandboxProvisioner({ baseDir: path.join(input.work, "sandbox") });
        return Promise.resolve({ prov, spec: imageSpec(input), close: async () => prov.close?.() });
      },
    },
    {
      // Rootful podman (runc), the job image imported once (in the warm-up rounds).
      name: "container",
      slow: false,
      async start(input) {
        if (process.getuid?.() !== 0) return "needs root (rootful podman)";
        if (!(await onPath("podman"))) return "podman is not installed (scripts/ensure-system.sh)";
        const prov = createContainerProvisioner({ baseDir: path.join(input.work, "container") });
        return { prov, spec: imageSpec(input), close: async () => prov.close?.() };
      },
    },
    {
      // A QEMU microVM per machine: KVM where it works, TCG otherwise (said under the tables).
      name: "vm",
      slow: true,
      async start(input) {
        if (!(await onPath("qemu-system-x86_64"))) return "qemu-system-x86 is not installed";
        const prov = createVmProvisioner({ baseDir: path.join(input.work, "vm") });
        vmLine = await prov.describe?.();
        return { prov, spec: imageSpec(input), close: async () => prov.close?.() };
      },
      notes: () => (vmLine ? [vmLine] : []),
    },
    {
      // A real OpenSSH server on loopback, its host key pinned as an operator would: the host is
      // this machine (an SSH host has no image), one ControlMaster connection per machine.
      name: "ssh (loopback host)",
      slow: false,
      async start(input) {
        if (process.getuid?.() !== 0) return "needs root (starts sshd, adds a user)";
        const sshd = await startSshd();
        const dataDir = path.join(input.work, "ssh");
        const base = `.airlock/bench-${randomBytes(4).toString("hex")}`;
        new HostStore(dataDir).add(
          {
            name: "loop",
            address: "127.0.0.1",
            port: sshd.port,
            user: sshd.user,
            identity: sshd.identity,
            baseDir: base,
            nodePath: process.execPath,
            jobs: 1,
          },
          parseHostKeys(sshd.hostKey()),
        );
        const prov = createSshProvisioner({ dataDir, warn: () => undefined });
        return {
          prov,
          spec: { name: "bench", root: HOST_ROOT },
          close: async () => {
            await prov.close?.();
            await sshd.stop();
            await rm(path.join(sshd.home, base), { recursive: true, force: true });
          },
        };
      },
    },
  ];
}
