// Pruning of the VM disk cache (vm/cache.ts) on real files: what goes (old images' root disks,
// old node disks and initramfs builds, partial builds of dead processes) and everything that must
// stay (current images, leased digests, files another agent used lately, files a running process
// names). No guest is booted: the rules are about files and processes on the host.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, it } from "node:test";
import { GRACE_MS, pruneCache } from "../../src/provisioners/vm/cache.js";
import { ensureRootDisk } from "../../src/provisioners/vm/disks.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "airlock-vm-cache-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const hex = (c: string): string => c.repeat(64);
const DEAD_PID = 2_000_000_000; // above pid_max: never alive

/** An images dir naming digest `a` and leasing `b` (to this live process), with a cache beside. */
function layout(name: string): { images: string; cache: string; put(f: string, young?: boolean): string } {
  const images = path.join(tmp, name);
  const cache = path.join(images, "vm");
  mkdirSync(path.join(images, "refs"), { recursive: true });
  mkdirSync(path.join(images, "leases", hex("b")), { recursive: true });
  mkdirSync(cache, { recursive: true });
  writeFileSync(
    path.join(images, "refs", "debian-12.json"),
    JSON.stringify({ digest: `sha256:${hex("a")}` }),
  );
  writeFileSync(path.join(images, "leases", hex("b"), `${process.pid}-abc`), "");
  // A lease of a dead process holds nothing.
  mkdirSync(path.join(images, "leases", hex("c")), { recursive: true });
  writeFileSync(path.join(images, "leases", hex("c"), `${DEAD_PID}-abc`), "");
  const old = new Date(Date.now() - GRACE_MS - 60_000);
  return {
    images,
    cache,
    put(f, young = false) {
      const p = path.join(cache, f);
      if (f.endsWith("/")) mkdirSync(p, { recursive: true });
      else writeFileSync(p, "x");
      if (!young) utimesSync(p, old, old);
      return p;
    },
  };
}

void it("removes only what no image, lease, agent or process can want", async () => {
  const l = layout("one");
  l.put(`root-${hex("a")}.ext4`); // current image
  l.put(`root-${hex("b")}.ext4`); // leased by a live process
  l.put(`root-${hex("c")}.ext4`); // gone: no name, its only lease is dead
  const running = l.put(`root-${hex("d")}.ext4`); // named by a running QEMU
  l.put(`root-${hex("e")}.ext4`, true); // used within the grace period
  const node = l.put("node-1111111111111111.ext4");
  l.put("node-2222222222222222.ext4");
  const initramfs = l.put("initramfs-3333333333333333.cpio");
  l.put("initramfs-4444444444444444.cpio");
  l.put(`root-${hex("f")}.ext4.${DEAD_PID}.1700000000000.tmp`);
  l.put(`node-5555555555555555.ext4.${DEAD_PID}.1700000000000.tmp.d/`);
  l.put(`root-${hex("f")}.ext4.${process.pid}.1700000000000.tmp`); // being built right now
  l.put("scratch-skel/");
  l.put("notes.txt");
  const removed = await pruneCache(l.cache, {
    imagesDir: l.images,
    keep: [node, initramfs],
    cmdlines: () => [`/usr/bin/qemu-system-x86_64\0-drive\0id=root,file=${running},format=raw`],
  });
  assert.deepEqual(
    removed.sort(),
    [
      "initramfs-4444444444444444.cpio",
      `node-5555555555555555.ext4.${DEAD_PID}.1700000000000.tmp.d`,
      "node-2222222222222222.ext4",
      `root-${hex("c")}.ext4`,
      `root-${hex("f")}.ext4.${DEAD_PID}.1700000000000.tmp`,
    ].sort(),
  );
  const left = readdirSync(l.cache);
  for (const r of removed) assert.ok(!left.includes(r));
  assert.equal(left.length, 9);
  // Idempotent: a second pass (or another agent's, at the same time) finds nothing more.
  assert.deepEqual(
    await pruneCache(l.cache, { imagesDir: l.images, keep: [node, initramfs], cmdlines: () => [] }),
    [`root-${hex("d")}.ext4`],
  );
});

void it("a disk a live process names on its command line stays (read from /proc)", async () => {
  const l = layout("two");
  const disk = l.put(`root-${hex("9")}.ext4`);
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", `file=${disk}`], {
    stdio: "ignore",
  });
  try {
    await new Promise((r) => child.once("spawn", r));
    assert.deepEqual(await pruneCache(l.cache, { imagesDir: l.images, keep: [] }), []);
  } finally {
    child.kill("SIGKILL");
  }
  await new Promise((r) => child.once("exit", r));
  assert.deepEqual(await pruneCache(l.cache, { imagesDir: l.images, keep: [] }), [`root-${hex("9")}.ext4`]);
});

void it("using a cached disk marks it, so a pruning agent leaves it", async () => {
  const l = layout("three");
  const disk = l.put(`root-${hex("7")}.ext4`);
  const before = statSync(disk).mtimeMs;
  assert.equal(await ensureRootDisk(l.cache, path.join(l.images, "rootfs", hex("7"))), disk);
  assert.ok(statSync(disk).mtimeMs > before + GRACE_MS / 2, "touched on use");
  assert.deepEqual(await pruneCache(l.cache, { imagesDir: l.images, keep: [], cmdlines: () => [] }), []);
});

void it("a missing cache folder or image store prunes nothing and does not throw", async () => {
  assert.deepEqual(
    await pruneCache(path.join(tmp, "absent"), { imagesDir: path.join(tmp, "absent2"), keep: [] }),
    [],
  );
});
