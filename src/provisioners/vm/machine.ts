// One VM machine: a QEMU microVM whose PID 1 is airlock-guest. Every operation is an EXEC of the
// guest helper (exec, read, copyin modes), run as the job user (uid 1001) chrooted in the image,
// so file operations can never reach outside the machine (there is no host path behind them:
// hostPath is absent). destroy() kills QEMU and removes the machine's folder (scratch disk,
// console log, control socket).
import type { ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { egressProxyEnv, JOB_SERVICES_PORT } from "../common/egress-relay.js";
import { limitMessage, type LimitKind } from "../common/limits.js";
import type { ExecHandle, ExecRequest, ExecResult, Machine, MachinePaths, MachineSpec } from "../types.js";
import { T, type GuestChannel } from "./channel.js";
import { copyRecords, END, fileRecord } from "./copy-stream.js";

export const NODE_PATH = "/airlock/externals/node/bin/node";

export interface VmMachineInit {
  id: string;
  dir: string;
  spec: MachineSpec;
  home: string;
  child: ChildProcess;
  channel: GuestChannel;
  exited: Promise<void>;
  /** Guest RAM and scratch disk size (MiB), for the limit messages. */
  memoryMb: number;
  diskMb: number;
}

export class VmMachine implements Machine {
  readonly id: string;
  readonly paths: MachinePaths;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly servicesUrl: string | undefined;
  readonly nodePath = NODE_PATH;
  private destroyed: Promise<void> | undefined;
  /** The limit this machine went over (it is then killed); set once. */
  private exceeded: string | undefined;

  constructor(private readonly m: VmMachineInit) {
    this.id = m.id;
    this.paths = {
      workspace: "/airlock/workspace",
      temp: "/airlock/temp",
      actions: "/airlock/actions",
      home: m.home,
      toolCache: "/airlock/toolcache",
    };
    this.env = m.spec.egress ? egressProxyEnv() : undefined;
    this.servicesUrl = m.spec.services ? `http://127.0.0.1:${JOB_SERVICES_PORT}` : undefined;
  }

  private check(): void {
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
    if (this.exceeded !== undefined) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} was killed: ${this.exceeded}`);
    }
    if (this.m.child.exitCode !== null || this.m.child.signalCode !== null) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id}: the virtual machine has stopped`);
    }
  }

  /** Starts a guest helper mode; `stdin` (if any) is written and closed. */
  private run(args: string[], stdin?: (send: (b: Buffer) => Promise<void>) => Promise<void>): ExecHandle {
    this.check();
    const ch = this.m.channel;
    const { chan, exec } = ch.start(args);
    const pump = async (): Promise<void> => {
      if (stdin) await stdin((b) => ch.sendWait(T.STDIN, chan, b));
      ch.send(T.STDIN_EOF, chan);
    };
    pump().catch(() => ch.send(T.KILL, chan));
    let done = false;
    void exec.result.then(() => (done = true));
    return {
      stdout: exec.stdout,
      stderr: exec.stderr,
      wait: () => exec.result,
      kill: () => {
        if (!done) ch.send(T.KILL, chan);
      },
    };
  }

  exec(req: ExecRequest): ExecHandle {
    if (req.argv.length === 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    return this.run(["exec", req.cwd, String(req.argv.length), ...req.argv, String(env.length), ...env]);
  }

  private async finish(h: ExecHandle, what: string): Promise<{ r: ExecResult; out: Buffer }> {
    const out: Buffer[] = [];
    let err = "";
    h.stdout.on("data", (b: Buffer) => out.push(b));
    h.stderr.on("data", (b: Buffer) => {
      if (err.length < 2048) err += b.toString();
    });
    const r = await h.wait();
    if (r.exitCode === 126 || r.exitCode === 127 || r.signal !== null) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${what} failed: ${err.trim() || JSON.stringify(r)}`);
    }
    return { r, out: Buffer.concat(out) };
  }

  /**
   * Asks the guest: a fork pids.max refused, an OOM kill (the guest's RAM is the memory limit) or
   * a scratch disk with less than 1 MiB free. The first hit kills the machine (QEMU) for good.
   */
  async limitExceeded(): Promise<string | undefined> {
    if (this.exceeded !== undefined || this.destroyed) return this.exceeded;
    const answer = await this.m.channel.limits();
    if (answer === undefined || this.exceeded !== undefined) return this.exceeded;
    const n = (k: string): number => Number(new RegExp(`\\b${k} (-?\\d+)`).exec(answer)?.[1] ?? 0);
    const limits = this.m.spec.limits ?? {};
    const kind: LimitKind | undefined =
      n("oom") > 0
        ? "memory"
        : n("pids") > 0
          ? "pids"
          : n("free") >= 0 && n("free") < 1024
            ? "disk"
            : undefined;
    if (kind === undefined) return undefined;
    this.exceeded = limitMessage(kind, {
      ...limits,
      memoryMb: limits.memoryMb ?? this.m.memoryMb,
      diskMb: limits.diskMb ?? this.m.diskMb,
    });
    this.killVm();
    return this.exceeded;
  }

  private killVm(): void {
    this.m.channel.close();
    try {
      if (this.m.child.pid !== undefined) process.kill(-this.m.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Where copies go: the actions folder is read-only in the job's root, written through the scratch disk. */
  private copyTarget(innerPath: string): string[] {
    const a = this.paths.actions;
    if (innerPath === a || innerPath.startsWith(`${a}/`))
      return [`/actions${innerPath.slice(a.length)}`, "scratch"];
    return [innerPath];
  }

  async writeFile(innerPath: string, data: string | Uint8Array): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
    const [dest, ...where] = this.copyTarget(innerPath);
    const h = this.run(["copyin", dest!, "0", ...where], async (send) => {
      await send(fileRecord(buf));
      await send(END);
    });
    const { r } = await this.finish(h, `writing ${innerPath}`);
    if (r.exitCode !== 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, `writing ${innerPath} failed`);
  }

  async readFile(innerPath: string, opts?: { maxBytes?: number }): Promise<Buffer | undefined> {
    const max = opts?.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const { r, out } = await this.finish(this.run(["read", innerPath, String(max)]), `reading ${innerPath}`);
    if (r.exitCode === 0) return out;
    if (r.exitCode === 2) return undefined;
    if (r.exitCode === 3) {
      throw new AirlockError(ErrorCode.MACHINE_FILE_TOO_LARGE, `${innerPath} is larger than ${max} bytes`);
    }
    if (r.exitCode === 4) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${innerPath} is not a file`);
    throw new AirlockError(ErrorCode.MACHINE_FAILED, `reading ${innerPath} failed`);
  }

  async copyIn(hostPath: string, innerPath: string): Promise<void> {
    const [dest, ...where] = this.copyTarget(innerPath);
    const h = this.run(["copyin", dest!, "1", ...where], (send) => copyRecords(hostPath, send));
    const { r } = await this.finish(h, `copying into ${innerPath}`);
    if (r.exitCode !== 0)
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `copying into ${innerPath} failed`);
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      this.killVm();
      await this.m.exited;
      await fsp.rm(this.m.dir, { recursive: true, force: true, maxRetries: 5 });
    })();
    return this.destroyed;
  }
}

export function machineDir(baseDir: string, id: string): string {
  return path.join(baseDir, id);
}
