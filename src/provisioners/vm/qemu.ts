// Starts one QEMU microVM (`-M microvm`: no PCI, no firmware tables beyond ACPI, virtio-mmio
// devices only) and waits until airlock-guest answers on the control port. No network device is
// ever given: egress and job services are carried over the control port (channel.ts).
//
// QEMU runs under its own seccomp filter (SANDBOX): no exec/fork, no setuid, no obsolete or
// resource-control syscalls, so a guest that breaks into QEMU's device emulation finds a process
// that cannot start programs. The serial console goes through QEMU's stdout into a bounded log
// (console-log.ts), never straight into a file QEMU could grow without limit.
//
// The kernel command line pins the TSC (tsc=reliable tsc_early_khz lpj): under TCG the kernel
// would otherwise spend seconds (or hang) calibrating it.
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import net from "node:net";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { GuestChannel } from "./channel.js";
import { BoundedLog, CONSOLE_HEAD_BYTES, CONSOLE_TAIL_BYTES } from "./console-log.js";

/** QEMU's seccomp sandbox (Debian's build has it: libseccomp). */
export const SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

export type Accel = "kvm" | "tcg";

export interface BootSpec {
  qemu: string;
  accel: Accel;
  kernel: string;
  initramfs: string;
  /** Folder of this machine: control socket and console log. */
  dir: string;
  memoryMb: number;
  cpus: number;
  disks: { serial: "root" | "scratch" | "node"; file: string; readOnly: boolean }[];
  /** airlock.* keys for the init script. */
  params: Record<string, string>;
  /** Extra kernel arguments (benchmarks). */
  extraArgs: string[];
  /** Relay targets [egress proxy socket, job services socket]. */
  targets: (string | undefined)[];
  deadlineMs: number;
  /** Power off right after the modules load (KVM probe): resolves when QEMU exits. */
  probe?: boolean;
  /** Bytes of console output kept at the head and at the tail of console.log (tests). */
  consoleBytes?: { head: number; tail: number };
}

export interface Booted {
  child: ChildProcess;
  channel: GuestChannel;
  exited: Promise<void>;
  /** Host ms from spawn to READY, and the guest's uptime (s) at READY. */
  timing: { spawnToReadyMs: number; guestUptimeS: number };
}

export function qemuArgs(b: BootSpec): string[] {
  const append = [
    "console=ttyS0",
    "quiet",
    "panic=-1",
    "tsc=reliable",
    "tsc_early_khz=2000000",
    "lpj=4000000",
    "rdinit=/init",
    ...Object.entries(b.params).map(([k, v]) => `airlock.${k}=${v}`),
    ...(b.probe ? ["airlock.probe=1"] : []),
    ...b.extraArgs,
  ].join(" ");
  const args = [
    "-sandbox",
    SANDBOX,
    "-M",
    "microvm,rtc=on",
    "-accel",
    b.accel === "kvm" ? "kvm" : "tcg,thread=multi",
    "-cpu",
    b.accel === "kvm" ? "host" : "max",
    "-m",
    `${b.memoryMb}M`,
    "-smp",
    String(b.cpus),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-kernel",
    b.kernel,
    "-initrd",
    b.initramfs,
    "-append",
    append,
    "-chardev",
    "stdio,id=con,signal=off",
    "-serial",
    "chardev:con",
  ];
  for (const d of b.disks) {
    args.push(
      "-drive",
      `id=${d.serial},file=${d.file},format=raw,if=none,${d.readOnly ? "readonly=on" : "cache=unsafe"}`,
      "-device",
      `virtio-blk-device,drive=${d.serial},serial=${d.serial}`,
    );
  }
  if (!b.probe) {
    args.push(
      "-device",
      "virtio-serial-device,max_ports=2",
      "-chardev",
      `socket,id=ctl,path=${path.join(b.dir, "ctl.sock")}`,
      "-device",
      "virtserialport,chardev=ctl,name=airlock.ctl",
    );
  }
  return args;
}

export async function consoleTail(dir: string): Promise<string> {
  const text = await fsp.readFile(path.join(dir, "console.log"), "utf8").catch(() => "");
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .slice(-3)
    .join(" | ");
}

export async function boot(b: BootSpec): Promise<Booted> {
  const sockPath = path.join(b.dir, "ctl.sock");
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((res) => server.once("connection", res));
  if (!b.probe) await new Promise<void>((res, rej) => server.listen(sockPath, res).once("error", rej));
  const started = performance.now();
  const log = new BoundedLog(
    path.join(b.dir, "console.log"),
    b.consoleBytes?.head ?? CONSOLE_HEAD_BYTES,
    b.consoleBytes?.tail ?? CONSOLE_TAIL_BYTES,
  );
  const child = spawn(b.qemu, qemuArgs(b), { stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.on("data", (d: Buffer) => log.write(d));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  // "close": QEMU has exited and its stdout is read to the end, so the log is complete.
  const exited = new Promise<void>((res) => {
    child.once("close", () => res());
    child.once("error", () => res());
  }).finally(() => log.close());
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), b.deadlineMs)));
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  try {
    if (b.probe) {
      const r = await Promise.race([exited.then(() => "exit" as const), deadline]);
      if (r === "timeout") {
        kill();
        await exited;
        throw new AirlockError(ErrorCode.MACHINE_FAILED, "probe boot timed out");
      }
      const log = await fsp.readFile(path.join(b.dir, "console.log"), "utf8").catch(() => "");
      if (!log.includes("airlock-init: probe")) {
        const tail = await consoleTail(b.dir);
        throw new AirlockError(ErrorCode.MACHINE_FAILED, `probe boot failed: ${stderr.trim() || tail}`);
      }
      return { child, channel: undefined as never, exited, timing: { spawnToReadyMs: 0, guestUptimeS: 0 } };
    }
    const first = await Promise.race([accepted, exited.then(() => "exit" as const), deadline]);
    if (first === "exit" || first === "timeout") throw await bootError(first, stderr, b.dir);
    const channel = new GuestChannel(first, b.targets);
    const ready = await Promise.race([channel.ready, exited.then(() => "exit" as const), deadline]);
    if (ready === "exit" || ready === "timeout") {
      channel.close();
      throw await bootError(ready, stderr, b.dir);
    }
    child.stderr?.resume();
    return {
      child,
      channel,
      exited,
      timing: { spawnToReadyMs: performance.now() - started, guestUptimeS: ready },
    };
  } catch (e) {
    kill();
    await exited;
    throw e;
  } finally {
    clearTimeout(timer);
    server.close();
    await fsp.rm(sockPath, { force: true });
  }
}

async function bootError(why: "exit" | "timeout", stderr: string, dir: string): Promise<AirlockError> {
  const tail = await consoleTail(dir);
  const line =
    stderr
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? tail;
  return new AirlockError(
    ErrorCode.MACHINE_FAILED,
    `virtual machine did not start (${why === "timeout" ? "timed out" : "QEMU exited"})${line ? `: ${line}` : ""}`,
  );
}
