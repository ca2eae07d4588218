// Test helpers shared by the provisioner tests: run a command in a machine and collect its output.
import type { ExecResult, Machine } from "../../src/provisioners/index.js";

export interface RunOutput extends ExecResult {
  stdout: string;
  stderr: string;
}

export const BASE_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" };

/** Runs `sh -c script` in the machine (script is test-controlled, never hostile input). */
export async function sh(m: Machine, script: string, env: Record<string, string> = {}): Promise<RunOutput> {
  const h = m.exec({ argv: ["/bin/sh", "-c", script], env: { ...BASE_ENV, ...env }, cwd: m.paths.workspace });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  h.stdout.on("data", (b: Buffer) => out.push(b));
  h.stderr.on("data", (b: Buffer) => err.push(b));
  const r = await h.wait();
  return { ...r, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** True when some host process has `cookie` in its command line or environment. */
export async function hostHasProcessWith(cookie: string): Promise<boolean> {
  const { readdir, readFile } = await import("node:fs/promises");
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    for (const f of ["cmdline", "environ"]) {
      try {
        if ((await readFile(`/proc/${pid}/${f}`)).includes(cookie)) return true;
      } catch {
        // process gone or not readable
      }
    }
  }
  return false;
}

/** Polls `cond` until it holds (fails the test after ~5 s). */
export async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

/** Host pid of a machine's PID 1: the process whose PID namespace is the machine's, with pid 1 in it. */
export async function hostPidOfInit(m: Machine): Promise<number> {
  const { readdir, readFile, readlink } = await import("node:fs/promises");
  const ns = (await sh(m, "readlink /proc/1/ns/pid")).stdout.trim();
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if ((await readlink(`/proc/${pid}/ns/pid`)) !== ns) continue;
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      if (/^NSpid:.*\s1$/m.test(status)) return Number(pid);
    } catch {
      // gone or not ours to read
    }
  }
  throw new Error(`no host process has PID 1 in ${ns}`);
}
