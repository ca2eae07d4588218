// How Airlock calls `ssh`: always with argv (never a shell), no user or system ssh configuration,
// only Airlock's own known-hosts file and only the host's pinned keys, strict checking, no agent or
// forwarding, no prompts. An unknown or changed host key makes ssh refuse before anything is sent;
// `sshFailure` tells that apart from other failures from ssh's own stderr.
import { spawn, type ChildProcess } from "node:child_process";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { BOOTSTRAP } from "./helper.js";
import type { HostStore, SshHost } from "./hosts.js";

/**
 * A machine's own multiplexed connection: its first call (create) starts it as the control master
 * (kept by ssh in the background, ControlPersist) and later calls share it, so only that first call
 * pays for the handshake. The socket sits in a private 0700 folder of the agent. When the master is
 * gone (idle timeout, restarted host), ssh connects afresh, checking the host key again.
 */
export interface Control {
  path: string;
  master: boolean;
}

/** How long an idle master connection stays up (a machine between steps); afterwards calls reconnect. */
const CONTROL_PERSIST = "10m";

/** The ssh command line for one call to the helper on `host`. */
export function sshArgv(host: SshHost, store: HostStore, control?: Control): string[] {
  const o = (kv: string): string[] => ["-o", kv];
  const mux = control
    ? [
        ...o(`ControlMaster=${control.master ? "yes" : "no"}`),
        ...o(`ControlPath=${control.path.replace(/%/g, "%%")}`),
        ...o(`ControlPersist=${CONTROL_PERSIST}`),
      ]
    : [...o("ControlMaster=no"), ...o("ControlPath=none")];
  return [
    "-F",
    "/dev/null",
    "-T",
    "-e",
    "none",
    ...o(`UserKnownHostsFile=${store.knownHosts}`),
    ...o("GlobalKnownHostsFile=/dev/null"),
    ...o("StrictHostKeyChecking=yes"),
    ...o(`HostKeyAlias=${host.name}`),
    ...o("UpdateHostKeys=no"),
    ...o("CheckHostIP=no"),
    ...o("VerifyHostKeyDNS=no"),
    ...o("BatchMode=yes"),
    ...o("PasswordAuthentication=no"),
    ...o("KbdInteractiveAuthentication=no"),
    ...o("IdentitiesOnly=yes"),
    ...o("IdentityAgent=none"),
    ...o(`IdentityFile=${host.identity}`),
    ...o("ForwardAgent=no"),
    ...o("ForwardX11=no"),
    ...o("ClearAllForwardings=yes"),
    ...o("PermitLocalCommand=no"),
    ...mux,
    ...o("ConnectTimeout=15"),
    ...o("ServerAliveInterval=15"),
    ...o("ServerAliveCountMax=4"),
    ...o("LogLevel=ERROR"),
    "-p",
    String(host.port),
    "-l",
    host.user,
    "--",
    host.address,
    BOOTSTRAP,
  ];
}

export function spawnSsh(host: SshHost, store: HostStore, control?: Control): ChildProcess {
  return spawn("ssh", sshArgv(host, store, control), { stdio: ["pipe", "pipe", "pipe"], env: sshEnv() });
}

/** Stops a machine's master connection (idempotent: nothing to stop is fine). */
export function stopControl(host: SshHost, controlPath: string): Promise<void> {
  const args = ["-F", "/dev/null", "-o", `ControlPath=${controlPath.replace(/%/g, "%%")}`, "-O", "exit"];
  const child = spawn("ssh", [...args, "-p", String(host.port), "-l", host.user, "--", host.address], {
    stdio: "ignore",
    env: sshEnv(),
  });
  return new Promise((resolve) => {
    child.once("error", () => resolve());
    child.once("close", () => resolve());
  });
}

/** ssh's own environment: no agent socket, no askpass, nothing of Airlock's. */
function sshEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", LANG: "C" };
}

/** "unknown" / "changed" when ssh refused the host key, else undefined. */
export function hostKeyProblem(stderr: string): "unknown" | "changed" | undefined {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed/i.test(stderr)) return "changed";
  if (/Host key verification failed|No \S+ host key is known|host key is not known/i.test(stderr))
    return "unknown";
  return undefined;
}

/**
 * The error for an ssh call that ended without the helper's answer. A refused host key marks the
 * host unhealthy (persisted: no job goes there until the operator re-pins it) and is HOST_KEY_MISMATCH.
 */
export function sshFailure(
  host: SshHost,
  store: HostStore,
  code: number | null,
  stderr: string,
): AirlockError {
  const problem = hostKeyProblem(stderr);
  if (problem) {
    const reason =
      problem === "changed"
        ? "host key changed: it is not the pinned one"
        : "host key not pinned: the host offered a key Airlock does not know";
    store.markUnhealthy(host.name, reason);
    return new AirlockError(
      ErrorCode.HOST_KEY_MISMATCH,
      `ssh host ${host.name} refused: ${reason}; the host is marked unhealthy until an operator re-pins its key (airlock agent ssh-host pin ${host.name})`,
    );
  }
  const last = stderr.trim().split("\n").filter(Boolean).pop() ?? `ssh exited with ${code}`;
  return new AirlockError(ErrorCode.MACHINE_FAILED, `ssh host ${host.name}: ${last.trim()}`, {
    retryable: true,
  });
}
