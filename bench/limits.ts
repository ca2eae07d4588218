// Benchmark: what resource limits cost at job start. The same step ("job ready" → "first step
// process running") in one run, interleaved with rotating order: (a) bare spawn, (b) a sandbox
// machine without limits, (c) with every limit (cgroup + a filesystem from the warm pool), (d) with
// every limit and no warm pool (each filesystem formatted and mounted on demand: a cold start).
// Also how long destroy takes with and without limits. Root only (cgroups, loop devices).
// Usage: npm run bench:limits [-- iterations]
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  HOST_ROOT,
  createSandboxProvisioner,
  type MachineLimits,
  type Provisioner,
} from "../src/provisioners/index.js";
import { machineLine, pct, table } from "./lib/stats.js";

const ITERATIONS = Number(process.argv[2] ?? 30);
const WARMUP = 3;
const STEP = ["/bin/sh", "-c", "printf x"];
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };
/** The default flavour (1 CPU, 2 GiB, 4 GiB disk) and the agent's default node limits. */
const LIMITS: MachineLimits = {
  cpus: 1,
  memoryMb: 2048,
  diskMb: 4096,
  pids: 4096,
  nofile: 65536,
  shmMb: 64,
  tmpMb: 1024,
};

function firstByte(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("data", () => resolve());
    s.once("end", () => reject(new Error("step ended without output")));
  });
}

async function bare(cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(STEP[0] as string, STEP.slice(1), { env: ENV, cwd, stdio: ["ignore", "pipe", "pipe"] });
  await firstByte(child.stdout);
  const t = performance.now() - t0;
  child.stderr.resume();
  await new Promise((r) => child.once("close", r));
  return t;
}

interface Sample {
  start: number;
  create: number;
  destroy: number;
}

async function sandboxed(prov: Provisioner, limits: MachineLimits | undefined): Promise<Sample> {
  const t0 = performance.now();
  const m = await prov.create({ name: "bench", root: HOST_ROOT, ...(limits ? { limits } : {}) });
  const t1 = performance.now();
  const h = m.exec({ argv: STEP, env: ENV, cwd: m.paths.workspace });
  await firstByte(h.stdout);
  const start = performance.now() - t0;
  h.stderr.resume();
  await h.wait();
  const t2 = performance.now();
  await m.destroy();
  return { start, create: t1 - t0, destroy: performance.now() - t2 };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:limits needs root (cgroups, loop devices)");
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-limits-"));
  const cwd = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-ws-"));
  const plain = createSandboxProvisioner({ baseDir });
  const warm = createSandboxProvisioner({ baseDir, diskPool: { warm: 2, sizes: [LIMITS.diskMb!] } });
  const cold = createSandboxProvisioner({ baseDir, diskPool: { warm: 0 } });
  const series: Record<string, number[]> = { bare: [] };
  const samples: Record<string, Sample[]> = { none: [], warm: [], cold: [] };
  const sides: Array<() => Promise<void>> = [
    async () => void series.bare!.push(await bare(cwd)),
    async () => void samples.none!.push(await sandboxed(plain, undefined)),
    async () => void samples.warm!.push(await sandboxed(warm, LIMITS)),
    async () => void samples.cold!.push(await sandboxed(cold, LIMITS)),
  ];
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]!();
      if (i < WARMUP) {
        series.bare = [];
        for (const key of Object.keys(samples)) samples[key] = [];
      }
    }
  } finally {
    for (const p of [plain, warm, cold]) await p.close?.();
    await rm(baseDir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
  const f = (v: number): string => `${v.toFixed(2)} ms`;
  const row = (name: string, xs: number[]): string[] => [name, f(pct(xs, 50)), f(pct(xs, 95))];
  const of = (k: string, field: keyof Sample): number[] => samples[k]!.map((s) => s[field]);
  console.log(
    `job ready -> first step running, \`${STEP.join(" ")}\`, host root, ${ITERATIONS} rounds interleaved`,
  );
  console.log(`limits: ${JSON.stringify(LIMITS)}`);
  console.log("");
  table([
    ["", "median", "p95"],
    row("bare spawn", series.bare!),
    row("sandbox, no limits", of("none", "start")),
    row("sandbox, all limits, warm pool", of("warm", "start")),
    row("  of which create", of("warm", "create")),
    row("sandbox, all limits, cold (mkfs + mount)", of("cold", "start")),
    row("  of which create", of("cold", "create")),
    row("destroy, no limits", of("none", "destroy")),
    row("destroy, all limits", of("warm", "destroy")),
  ]);
  console.log("");
  const b = pct(series.bare!, 50);
  console.log(`sandbox with all limits (warm) - bare: ${(pct(of("warm", "start"), 50) - b).toFixed(2)} ms`);
  console.log(
    `limits' own cost (warm - no limits):   ${(pct(of("warm", "start"), 50) - pct(of("none", "start"), 50)).toFixed(2)} ms`,
  );
  console.log(
    `cold start's extra (cold - warm):       ${(pct(of("cold", "start"), 50) - pct(of("warm", "start"), 50)).toFixed(2)} ms`,
  );
  console.log(machineLine());
}

await main();
