// Benchmark: time from "job ready to start" to "first step process running", for the same step
// (a) spawned bare on the host, (b) in a fresh sandbox machine on the debian-12 image with all
// hardening and the default flavour's and node's limits on, as the agent runs it (warm slots: the
// machine's cgroups and two waiting helper processes made ahead, see sandbox/warm.ts), (b') the
// same without warm slots (everything made on the job's path: what a burst of starts beyond the
// warm slots gets), (c) in `podman run --rm --network none --runtime runc` of the same image with
// the same limits. Measured interleaved (the order
// rotates each round) and repeated, in one run. "Running" = the step wrote its first byte to
// stdout. Prints median, p95, min and max of each, and the two ratios of issue 6: sandbox − bare
// (target ≤ 15 ms) and podman / sandbox (target ≥ 10×).
// Usage: npm run bench:start [-- iterations]   (podman/runc missing: the podman column is skipped)
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { createSandboxProvisioner, type MachineLimits, type Provisioner } from "../src/provisioners/index.js";
import { loadOptions } from "../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../src/images/index.js";
import { ensurePodmanImage, podmanArgs, podmanAvailable } from "./lib/podman.js";
import { machineLine, pct, table } from "./lib/stats.js";

const ITERATIONS = Number(process.argv[2] ?? 40);
const WARMUP = 3;
const STEP = ["/bin/sh", "-c", "printf x"];
const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin" };
/** The default flavour (1 CPU, 2 GiB, 4 GiB disk) and the agent's default node limits. */
const LIMITS: Required<MachineLimits> = {
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

async function timedSpawn(file: string, args: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(file, args, { env: ENV, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  await firstByte(child.stdout).catch(async (e: unknown) => {
    await exited;
    throw new Error(`${file} ${args.join(" ")}: ${String(e)}: ${err.trim()}`);
  });
  const t = performance.now() - t0;
  child.stdout.resume();
  await exited;
  return t;
}

async function sandboxed(prov: Provisioner, rootfs: string): Promise<{ total: number; create: number }> {
  const t0 = performance.now();
  const m = await prov.create({ name: "bench", root: { kind: "image", path: rootfs }, limits: LIMITS });
  const t1 = performance.now();
  const h = m.exec({ argv: STEP, env: ENV, cwd: m.paths.workspace });
  await firstByte(h.stdout);
  const total = performance.now() - t0;
  h.stderr.resume();
  await h.wait();
  await m.destroy();
  return { total, create: t1 - t0 };
}

const f = (v: number): string => `${v.toFixed(2)} ms`;
const row = (name: string, xs: number[]): string[] => [
  name,
  f(pct(xs, 50)),
  f(pct(xs, 95)),
  f(Math.min(...xs)),
  f(Math.max(...xs)),
];

async function main(): Promise<void> {
  const image = new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE);
  if (!image)
    throw new Error(`no ${DEFAULT_IMAGE} image on this node: run airlock image build ${DEFAULT_IMAGE}`);
  const rootfs = image.rootfs;
  // RLIMIT_NOFILE cannot go above the hard limit we run under (no CAP_SYS_RESOURCE in a container).
  const hard = Number(
    await new Promise<string>((r) => {
      const c = spawn("sh", ["-c", "ulimit -Hn"], { stdio: ["ignore", "pipe", "ignore"] });
      let o = "";
      c.stdout.on("data", (b: Buffer) => (o += b.toString()));
      c.once("close", () => r(o.trim()));
    }),
  );
  if (Number.isFinite(hard) && hard < LIMITS.nofile) LIMITS.nofile = hard;
  const noPodman = await podmanAvailable();
  if (!noPodman) await ensurePodmanImage(rootfs);
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-"));
  const cwd = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-ws-"));
  const coldDir = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-"));
  const prov = createSandboxProvisioner({ baseDir });
  const coldProv = createSandboxProvisioner({ baseDir: coldDir, warmSlots: 0 });
  const bare: number[] = [];
  const sbx: number[] = [];
  const create: number[] = [];
  const cold: number[] = [];
  const pod: number[] = [];
  type Side = () => Promise<void>;
  const sides: Side[] = [
    async () => void bare.push(await timedSpawn(STEP[0] as string, STEP.slice(1), cwd)),
    async () => {
      const s = await sandboxed(prov, rootfs);
      sbx.push(s.total);
      create.push(s.create);
    },
    async () => void cold.push((await sandboxed(coldProv, rootfs)).total),
    ...(noPodman
      ? []
      : [async () => void pod.push(await timedSpawn("podman", podmanArgs(STEP, LIMITS), cwd))]),
  ];
  try {
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      // Rotate the order so no side always runs first (on a "cold" moment) or last.
      const order = sides.map((_, k) => sides[(i + k) % sides.length] as Side);
      const lens = [bare.length, sbx.length, create.length, pod.length, cold.length];
      for (const side of order) await side();
      if (i < WARMUP) {
        bare.length = lens[0] as number;
        sbx.length = lens[1] as number;
        create.length = lens[2] as number;
        pod.length = lens[3] as number;
        cold.length = lens[4] as number;
      }
    }
  } finally {
    await prov.close?.();
    await coldProv.close?.();
    await rm(baseDir, { recursive: true, force: true });
    await rm(coldDir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
  console.log(`job ready -> first step process running: \`${STEP.join(" ")}\` on ${rootfs}`);
  console.log(`${ITERATIONS} iterations each, interleaved (order rotating), after ${WARMUP} warm-up rounds`);
  console.log(`limits (sandbox and podman): ${JSON.stringify(LIMITS)}`);
  console.log("");
  table([
    ["", "median", "p95", "min", "max"],
    row("bare spawn", bare),
    row("sandbox (create + exec)", sbx),
    row("  of which create", create),
    row("sandbox, no warm slots", cold),
    ...(noPodman ? [] : [row("podman run --rm (runc)", pod)]),
  ]);
  console.log("");
  const over = pct(sbx, 50) - pct(bare, 50);
  console.log(`sandbox - bare (medians): ${over.toFixed(2)} ms   (target: at most 15 ms)`);
  if (noPodman) console.log(`podman: skipped, ${noPodman}`);
  else {
    const ratio = pct(pod, 50) / pct(sbx, 50);
    console.log(`podman / sandbox (medians): ${ratio.toFixed(1)}x   (target: at least 10x)`);
  }
  console.log(machineLine());
}

await main();
