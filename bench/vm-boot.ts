// Benchmark: where a VM machine's start goes (docs/isolation.md, "VM provisioner"). For each boot:
// host time from QEMU's spawn to airlock-guest's READY, the guest's uptime at READY (so QEMU's own
// start-up = the difference), the init script's stamps (start, modules loaded, disks mounted) and
// the first exec's output. One extra boot with the kernel's messages on (console at loglevel 7)
// gives the kernel's own milestones; it is slower (the serial console is emulated) and is not
// counted in the totals.
// Usage: npm run bench:vm [-- boots] (AIRLOCK_VM_ACCEL=tcg|kvm|auto; default auto)
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadOptions } from "../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../src/images/index.js";
import { createVmProvisioner, describeVm, type Machine } from "../src/provisioners/index.js";

const BOOTS = Number(process.argv[2] ?? 5);
const ENV = { PATH: "/usr/bin:/bin" };

interface Sample {
  spawnToReadyMs: number;
  uptimeS: number;
  firstOutputMs: number;
  stamps: Record<string, number>;
  kernel: Record<string, number>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function parseConsole(text: string): { stamps: Record<string, number>; kernel: Record<string, number> } {
  const stamps: Record<string, number> = {};
  for (const m of text.matchAll(/airlock-init: (\w+) ([\d.]+)/g)) stamps[m[1]!] = Number(m[2]);
  const kernel: Record<string, number> = {};
  const at = (re: RegExp, name: string): void => {
    const m = new RegExp(`\\[\\s*([\\d.]+)\\][^\\n]*${re.source}`).exec(text);
    if (m) kernel[name] = Number(m[1]);
  };
  at(/Linux version/, "kernel start");
  at(/Calibrating delay|tsc: Detected/, "timekeeping");
  at(/Unpacking initramfs|Trying to unpack rootfs/, "initramfs unpack");
  at(/Freeing initrd memory/, "initramfs unpacked");
  at(/Freeing unused kernel image/, "kernel init done");
  at(/Run \/init as init process/, "run /init");
  return { stamps, kernel };
}

async function one(rootfs: string, verbose: boolean): Promise<Sample> {
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-bench-vm-"));
  let timing = { spawnToReadyMs: 0, guestUptimeS: 0 };
  const prov = createVmProvisioner({
    baseDir,
    onBoot: (t) => (timing = t),
    ...(verbose ? { kernelArgs: ["loglevel=7", "printk.time=1"] } : {}),
  });
  let m: Machine | undefined;
  try {
    m = await prov.create({
      name: "bench",
      root: { kind: "image", path: rootfs },
      limits: { memoryMb: 1024 },
    });
    const t0 = performance.now();
    const h = m.exec({ argv: ["/bin/echo", "x"], env: ENV, cwd: "/" });
    await new Promise<void>((res) => h.stdout.once("data", () => res()));
    const firstOutputMs = performance.now() - t0;
    await h.wait();
    const text = readFileSync(path.join(baseDir, m.id, "console.log"), "utf8");
    return {
      spawnToReadyMs: timing.spawnToReadyMs,
      uptimeS: timing.guestUptimeS,
      firstOutputMs,
      ...parseConsole(text),
    };
  } finally {
    await m?.destroy();
    await rm(baseDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const img = new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE);
  if (!img) throw new Error(`no ${DEFAULT_IMAGE} image: run airlock image build ${DEFAULT_IMAGE}`);
  console.log(await describeVm());
  await one(img.rootfs, false); // warm-up: builds the cached disks and initramfs
  const samples: Sample[] = [];
  for (let i = 0; i < BOOTS; i++) samples.push(await one(img.rootfs, false));
  const med = (f: (s: Sample) => number | undefined): string =>
    `${Math.round(median(samples.map((s) => f(s) ?? NaN)))} ms`;
  console.log(`median of ${BOOTS} boots (host ms; guest stamps are /proc/uptime):`);
  console.log(`  QEMU spawn -> guest kernel start   ${med((s) => s.spawnToReadyMs - s.uptimeS * 1000)}`);
  console.log(`  kernel start -> /init runs         ${med((s) => (s.stamps.start ?? NaN) * 1000)}`);
  console.log(
    `  /init: insmod virtio modules       ${med((s) => ((s.stamps.modules ?? NaN) - (s.stamps.start ?? NaN)) * 1000)}`,
  );
  console.log(
    `  /init: mounts, cgroup, lo          ${med((s) => ((s.stamps.mounted ?? NaN) - (s.stamps.modules ?? NaN)) * 1000)}`,
  );
  console.log(
    `  /init done -> helper READY         ${med((s) => (s.uptimeS - (s.stamps.mounted ?? NaN)) * 1000)}`,
  );
  console.log(`  QEMU spawn -> READY (total boot)   ${med((s) => s.spawnToReadyMs)}`);
  console.log(`  READY -> first exec output         ${med((s) => s.firstOutputMs)}`);
  const v = await one(img.rootfs, true);
  console.log("kernel milestones (one verbose boot, s of guest uptime):");
  for (const [k, t] of Object.entries({
    ...v.kernel,
    ...Object.fromEntries(Object.entries(v.stamps).map(([k, t]) => [`/init ${k}`, t])),
  }))
    console.log(`  ${k.padEnd(22)} ${t.toFixed(3)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
