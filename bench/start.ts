// Benchmark: time from "job ready to start" to "first step process running" for a sandboxed job,
// against the same step spawned on the host without a sandbox, measured interleaved in one run.
// "Running" = the step wrote its first byte to stdout. Prints median and p95 of both and the
// difference of the medians. Usage: npm run bench:start [-- iterations]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { HOST_ROOT, createSandboxProvisioner, type Machine } from "../src/provisioners/index.js";

const ITERATIONS = Number(process.argv[2] ?? 60);
const WARMUP = 5;
const STEP = ["/bin/sh", "-c", "printf x"];
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };

function firstByte(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("data", () => resolve());
    s.once("end", () => reject(new Error("step ended without output")));
  });
}

async function baseline(cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(STEP[0] as string, STEP.slice(1), { env: ENV, cwd, stdio: ["ignore", "pipe", "pipe"] });
  await firstByte(child.stdout);
  const t = performance.now() - t0;
  child.stderr.resume();
  await new Promise((r) => child.once("close", r));
  return t;
}

async function sandboxed(
  prov: ReturnType<typeof createSandboxProvisioner>,
): Promise<{ total: number; create: number }> {
  const t0 = performance.now();
  const m: Machine = await prov.create({ name: "bench", root: HOST_ROOT });
  const t1 = performance.now();
  const h = m.exec({ argv: STEP, env: ENV, cwd: m.paths.workspace });
  await firstByte(h.stdout);
  const total = performance.now() - t0;
  h.stderr.resume();
  await h.wait();
  await m.destroy();
  return { total, create: t1 - t0 };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

const fmt = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;

async function main(): Promise<void> {
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-"));
  const cwd = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-ws-"));
  const prov = createSandboxProvisioner({ baseDir });
  const base: number[] = [];
  const sbx: number[] = [];
  const create: number[] = [];
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      // Alternate the order so neither side always runs on a "warm" or "cold" moment.
      const first = i % 2 === 0;
      const b1 = first ? await baseline(cwd) : undefined;
      const s = await sandboxed(prov);
      const b = b1 ?? (await baseline(cwd));
      if (i < WARMUP) continue;
      base.push(b);
      sbx.push(s.total);
      create.push(s.create);
    }
  } finally {
    await rm(baseDir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
  console.log(`job ready -> first step process running (${ITERATIONS} iterations each, interleaved)`);
  console.log(`                     median        p95`);
  console.log(`no sandbox (spawn) ${fmt(pct(base, 50))} ${fmt(pct(base, 95))}`);
  console.log(`bubblewrap sandbox ${fmt(pct(sbx, 50))} ${fmt(pct(sbx, 95))}`);
  console.log(`  of which create  ${fmt(pct(create, 50))} ${fmt(pct(create, 95))}`);
  console.log(`difference (median sandbox - median spawn): ${(pct(sbx, 50) - pct(base, 50)).toFixed(2)} ms`);
}

await main();
