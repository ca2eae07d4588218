// Benchmark (issue 12): for each provisioner this machine has, the time from "job ready" (the
// agent calls create()) to "first step running" (the step's first byte on stdout) and to "machine
// destroyed" (destroy() resolved: nothing of the machine left), against a bare spawn of the same
// step on the host (first byte, and process reaped). Every side runs the same step on the same
// debian-12 image with the default flavour's limits, interleaved (the order rotates each round)
// and repeated in one run; median, p95, min and max of each. Slow sides (the VM) take part in the
// first `--slow N` rounds only.
// Usage: npm run bench:provisioners [-- iterations [--slow N]]
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { loadOptions } from "../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../src/images/index.js";
import type { MachineLimits, MachineSpec, Provisioner } from "../src/provisioners/index.js";
import { contenders, type Contender } from "./lib/provisioners.js";
import { machineLine, pct, table } from "./lib/stats.js";

const args = process.argv.slice(2);
const slowAt = args.indexOf("--slow");
const SLOW = slowAt >= 0 ? Number(args[slowAt + 1]) : 8;
const ITERATIONS = Number(args.find((a, i) => !a.startsWith("--") && (slowAt < 0 || i !== slowAt + 1)) ?? 20);
const WARMUP = 2;
const STEP = ["/bin/sh", "-c", "printf x"];
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };
/** The default flavour (1 CPU, 2 GiB, 4 GiB disk) and the agent's default node limits. */
const LIMITS: MachineLimits = { cpus: 1, memoryMb: 2048, diskMb: 4096, pids: 4096, nofile: 65536 };

interface Sample {
  first: number;
  destroyed: number;
}

function firstByte(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("data", () => resolve());
    s.once("end", () => reject(new Error("step ended without output")));
  });
}

async function bare(cwd: string): Promise<Sample> {
  const t0 = performance.now();
  const child = spawn(STEP[0] as string, STEP.slice(1), { env: ENV, cwd, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((r) => child.once("close", () => r()));
  await firstByte(child.stdout);
  const first = performance.now() - t0;
  child.stdout.resume();
  child.stderr.resume();
  await exited;
  return { first, destroyed: performance.now() - t0 };
}

async function onMachine(prov: Provisioner, spec: MachineSpec): Promise<Sample> {
  const t0 = performance.now();
  const m = await prov.create(spec);
  try {
    const h = m.exec({ argv: STEP, env: ENV, cwd: m.paths.workspace });
    let err = "";
    h.stderr.on("data", (b: Buffer) => (err += b.toString()));
    await firstByte(h.stdout).catch((e: unknown) => {
      throw new Error(`${prov.name}: ${String(e)} ${err.trim()}`);
    });
    const first = performance.now() - t0;
    h.stdout.resume();
    await h.wait();
    await m.destroy();
    return { first, destroyed: performance.now() - t0 };
  } catch (e) {
    await m.destroy().catch(() => undefined);
    throw e;
  }
}

const f = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const row = (name: string, xs: number[]): string[] => [
  name,
  String(xs.length),
  f(pct(xs, 50)),
  f(pct(xs, 95)),
  f(Math.min(...xs)),
  f(Math.max(...xs)),
];

async function main(): Promise<void> {
  const image = new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE);
  if (!image)
    throw new Error(`no ${DEFAULT_IMAGE} image on this node: run airlock image build ${DEFAULT_IMAGE}`);
  const work = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-prov-"));
  // Machines run as an unprivileged host user, which must traverse to their folders.
  await chmod(work, 0o711);
  const cwd = path.join(work, "bare");
  await mkdir(cwd);
  const ready: Array<{ c: Contender; prov: Provisioner; spec: MachineSpec; close(): Promise<void> }> = [];
  const skipped: string[] = [];
  for (const c of contenders()) {
    const r = await c.start({ work, rootfs: image.rootfs, limits: LIMITS });
    if (typeof r === "string") skipped.push(`${c.name}: skipped, ${r}`);
    else ready.push({ c, ...r });
  }
  const results = new Map<string, Sample[]>([["bare spawn", []]]);
  for (const r of ready) results.set(r.c.name, []);
  type Side = { name: string; slow: boolean; run(): Promise<Sample> };
  const sides: Side[] = [
    { name: "bare spawn", slow: false, run: () => bare(cwd) },
    ...ready.map((r) => ({ name: r.c.name, slow: r.c.slow, run: () => onMachine(r.prov, r.spec) })),
  ];
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const order = sides.map((_, k) => sides[(i + k) % sides.length] as Side);
      for (const side of order) {
        if (side.slow && i >= WARMUP + SLOW) continue;
        const s = await side.run();
        if (i >= WARMUP) results.get(side.name)?.push(s);
      }
    }
  } finally {
    for (const r of ready) await r.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
  console.log(
    `job ready -> first step running -> machine destroyed: \`${STEP.join(" ")}\` on ${DEFAULT_IMAGE}`,
  );
  console.log(
    `interleaved (order rotating) after ${WARMUP} warm-up rounds; limits ${JSON.stringify(LIMITS)}`,
  );
  for (const [what, key] of [
    ["job ready -> first step running", "first"],
    ["job ready -> machine destroyed", "destroyed"],
  ] as const) {
    console.log("");
    console.log(what);
    table([
      ["", "n", "median", "p95", "min", "max"],
      ...[...results].map(([name, xs]) =>
        row(
          name,
          xs.map((s) => s[key]),
        ),
      ),
    ]);
  }
  for (const r of ready) for (const note of r.c.notes?.() ?? []) console.log(`${r.c.name}: ${note}`);
  for (const s of skipped) console.log(s);
  console.log(machineLine());
}

await main();
