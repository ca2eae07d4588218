// The VM's initramfs: busybox (static), the virtio modules of the guest kernel (Debian's cloud
// kernel has them as modules, not built in), airlock-guest (native/airlock-guest.c) and /init
// (init-script.ts). Written as a cpio "newc" archive by hand (a few dozen lines, no cpio tool
// needed), cached per kernel version and content hash, so a machine start only reads it.
import { createHash } from "node:crypto";
import { existsSync, promises as fsp, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { touch } from "./cache.js";
import { INIT_SCRIPT } from "./init-script.js";

/** Modules in load order (each after what it depends on): virtio core, the MMIO transport of `-M microvm`, disks, serial ports. */
export const GUEST_MODULES = [
  "kernel/drivers/virtio/virtio_ring.ko",
  "kernel/drivers/virtio/virtio.ko",
  "kernel/drivers/virtio/virtio_mmio.ko",
  "kernel/drivers/block/virtio_blk.ko",
  "kernel/drivers/char/virtio_console.ko",
] as const;

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** A cpio newc archive of `entries` (folders have no data), with its trailer. */
export function cpioNewc(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (e: Entry): void => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const head = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`);
    parts.push(
      head,
      name,
      Buffer.alloc(pad4(head.length + name.length)),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  };
  for (const e of entries) add(e);
  add({ name: "TRAILER!!!", mode: 0 });
  return Buffer.concat(parts);
}

export interface InitramfsInputs {
  /** Guest kernel version: its modules come from /lib/modules/<version>. */
  kernelVersion: string;
  busybox: string;
  guestHelper: string;
  modulesRoot?: string;
}

/** Builds (once per content) and returns the path of the initramfs in `cacheDir`. */
export async function ensureInitramfs(cacheDir: string, i: InitramfsInputs): Promise<string> {
  const modRoot = path.join(i.modulesRoot ?? "/lib/modules", i.kernelVersion);
  const mods = GUEST_MODULES.map((m) => path.join(modRoot, m));
  const hash = createHash("sha256");
  hash.update(INIT_SCRIPT).update(i.kernelVersion);
  for (const f of [i.busybox, i.guestHelper, ...mods]) {
    const st = statSync(f);
    hash.update(`${f}:${st.size}:${st.mtimeMs}`);
  }
  const out = path.join(cacheDir, `initramfs-${hash.digest("hex").slice(0, 16)}.cpio`);
  if (existsSync(out)) {
    await touch(out);
    return out;
  }
  const dir = (name: string): Entry => ({ name, mode: 0o40755 });
  const file = (name: string, src: string | Buffer): Entry => ({
    name,
    mode: 0o100755,
    data: typeof src === "string" ? readFileSync(src) : src,
  });
  const entries: Entry[] = [
    ...["bin", "dev", "proc", "sys", "newroot", "scratch", "lib", "lib/modules"].map(dir),
    file("init", Buffer.from(INIT_SCRIPT)),
    file("bin/busybox", i.busybox),
    file("bin/airlock-guest", i.guestHelper),
    ...mods.map((m) => file(`lib/modules/${path.basename(m)}`, m)),
  ];
  await fsp.mkdir(cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.${Date.now()}.tmp`;
  await fsp.writeFile(tmp, cpioNewc(entries));
  await fsp.rename(tmp, out);
  return out;
}
