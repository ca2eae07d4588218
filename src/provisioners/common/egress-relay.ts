// How a machine with egress reaches its proxy: native/airlock-relay, started with nsenter in the
// machine's network namespace only (not its PID namespace: the job cannot see, signal or ptrace
// it), listens on 127.0.0.1:EGRESS_PROXY_PORT inside and carries each connection to the machine's
// own unix socket of the egress proxy on the host. Its process group is killed with the machine.
// The same relay, on JOB_SERVICES_PORT, carries a machine's job services (its own unix socket
// served by the agent: src/agent/job-services.ts). With `connectPort` it forwards to a loopback
// port of the same namespace instead: a job service published on another port (`8080:80`).
import { spawn } from "node:child_process";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { nativeBinary } from "../../native/index.js";

/** The port the egress relay listens on inside a machine (127.0.0.1 only). */
export const EGRESS_PROXY_PORT = 3128;
/** The port the job services relay listens on inside a machine (127.0.0.1 only). */
export const JOB_SERVICES_PORT = 3129;

/** The variables that send a job's HTTP(S) clients to its egress relay. */
export function egressProxyEnv(port: number = EGRESS_PROXY_PORT): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const local = "localhost,127.0.0.1";
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: local,
    no_proxy: local,
  };
}

export interface RelayStart {
  nsenter: string;
  /** Host pid of a process inside the machine's network namespace (its init). */
  targetPid: number;
  /** Where each connection goes: the machine's unix socket on the host, or a loopback port inside. */
  proxySocket?: string;
  connectPort?: number;
  /** Enter the machine's user namespace too (needed when Airlock is not root). */
  userns: boolean;
  port?: number;
  relayBinary?: string;
}

export interface Relay {
  /** Kills the relay and every connection it carries. Idempotent. */
  kill(): void;
}

const READY_TIMEOUT_MS = 10_000;

export function startRelay(o: RelayStart): Promise<Relay> {
  const relay = o.relayBinary ?? nativeBinary("airlock-relay");
  const argv = [
    "--target",
    String(o.targetPid),
    "--net",
    ...(o.userns ? ["--user", "--preserve-credentials"] : []),
    "--",
    relay,
    "--listen",
    String(o.port ?? EGRESS_PROXY_PORT),
    ...(o.connectPort !== undefined
      ? ["--connect-port", String(o.connectPort)]
      : ["--connect", o.proxySocket ?? ""]),
  ];
  const child = spawn(o.nsenter, argv, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: {} });
  const pgid = child.pid;
  let killed = false;
  const kill = (): void => {
    if (killed || pgid === undefined) return;
    killed = true;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return new Promise((resolve, reject) => {
    let stderr = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      kill();
      const line = stderr.split("\n").find((l) => l.trim() !== "") ?? why;
      const what =
        o.connectPort !== undefined
          ? `port ${o.port ?? "?"}→${o.connectPort}`
          : o.port === undefined || o.port === EGRESS_PROXY_PORT
            ? "egress"
            : "job services";
      reject(new AirlockError(ErrorCode.MACHINE_FAILED, `${what} relay could not start: ${line.trim()}`));
    };
    const timer = setTimeout(() => fail("timed out"), READY_TIMEOUT_MS);
    child.stderr.on("data", (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    child.stdout.once("data", () => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.stdout.resume();
      resolve({ kill });
    });
    child.once("error", (e) => fail(e.message));
    child.once("exit", () => setImmediate(() => fail("exited")));
  });
}
