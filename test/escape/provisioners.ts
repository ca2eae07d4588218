// The provisioners the escape suite attacks: every isolation backend this build has. A new backend
// (container/, vm/) is added here and the whole table of cases runs against it too.
//
// Not here: `fake`. It runs a job as plain processes of the agent's own user on the host, in a
// private folder: it is a stand-in for tests of the scheduler and agent, not an isolation
// backend, and every case of this suite would (rightly) escape it.
import { existsSync } from "node:fs";

export interface ProvisionerUnderTest {
  /** As the agent's --provisioner and the image's `provisioner` name it. */
  name: string;
  /** Why this backend cannot run on this host, or undefined when it can. */
  unavailable(): string | undefined;
  /**
   * False when a machine's workspace is no host folder (VMs): the test cannot see the jobs'
   * markers nor release them, so the attack and the job beside start without the gate (run-case.ts).
   */
  hostFolders?: false;
  /** Cases that do not apply to this backend, with the reason (shown as the skip reason). */
  notApplicable?: Readonly<Record<string, string>>;
}

const has = (bin: string): boolean =>
  ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"].some((d) => existsSync(`${d}/${bin}`));

export const PROVISIONERS: readonly ProvisionerUnderTest[] = [
  {
    name: "sandbox",
    unavailable: () =>
      has("bwrap") && has("nsenter") ? undefined : "bubblewrap or nsenter is not installed",
  },
  {
    name: "container",
    unavailable: () =>
      process.getuid?.() !== 0
        ? "the container provisioner needs root (rootful podman)"
        : has("podman") && has("runc") && has("nsenter")
          ? undefined
          : "podman, runc or nsenter is not installed",
  },
  {
    // Slow (a guest boot per job; seconds under TCG): only in scripts/test-vm.sh.
    name: "vm",
    hostFolders: false,
    notApplicable: {
      seccomp:
        "a VM's boundary is the hypervisor: the guest kernel is the job's own, syscalls inside it reach no host",
    },
    unavailable: () =>
      process.env.AIRLOCK_VM_TESTS !== "1"
        ? "VM tests run with AIRLOCK_VM_TESTS=1 (scripts/test-vm.sh)"
        : has("qemu-system-x86_64")
          ? undefined
          : "qemu-system-x86 is not installed",
  },
];
