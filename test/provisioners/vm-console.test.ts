// The VM's console log is bounded (vm/console-log.ts): a guest printing forever to its serial
// console cannot fill the host disk. The writer on its own, then a real QEMU boot whose kernel is
// made verbose against a tiny bound (that one only with AIRLOCK_VM_TESTS=1: it boots a guest).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { nativeBinary } from "../../src/native/index.js";
import { BoundedLog } from "../../src/provisioners/vm/console-log.js";
import { ensureInitramfs } from "../../src/provisioners/vm/initramfs.js";
import { boot, qemuArgs, SANDBOX, type BootSpec } from "../../src/provisioners/vm/qemu.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "airlock-vm-console-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

void describe("bounded console log", () => {
  it("keeps the head on disk and the tail after a marker; never more than head + tail", () => {
    const file = path.join(tmp, "a.log");
    const log = new BoundedLog(file, 1000, 500);
    for (let i = 0; i < 10_000; i++) log.write(Buffer.from(`line ${i}\n`));
    assert.ok(log.heldBytes <= 1500);
    // While it runs, only the head is on disk.
    assert.equal(statSync(file).size, 1000);
    log.close();
    log.close();
    const text = readFileSync(file, "utf8");
    assert.ok(text.startsWith("line 0\nline 1\n"));
    assert.ok(text.endsWith("line 9999\n"));
    const m = /\[airlock: (\d+) bytes of console output dropped\]/.exec(text);
    assert.ok(m, "truncation marker");
    const total = Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`).join("").length;
    assert.equal(Number(m[1]), total - 1500);
    assert.ok(statSync(file).size <= 1500 + m[0].length + 2);
  });

  it("a short log is written whole, without a marker", () => {
    const file = path.join(tmp, "b.log");
    const log = new BoundedLog(file, 1000, 500);
    log.write(Buffer.from("hello\n"));
    log.close();
    log.write(Buffer.from("after close\n"));
    assert.equal(readFileSync(file, "utf8"), "hello\n");
  });

  it("QEMU is started with its seccomp sandbox and the console on its stdout, never a file", () => {
    const spec: BootSpec = {
      qemu: "/usr/bin/qemu-system-x86_64",
      accel: "tcg",
      kernel: "/boot/vmlinuz",
      initramfs: "/x/initramfs.cpio",
      dir: tmp,
      memoryMb: 256,
      cpus: 1,
      disks: [],
      params: {},
      extraArgs: [],
      targets: [],
      deadlineMs: 0,
    };
    const probe = qemuArgs({ ...spec, probe: true });
    const args = qemuArgs(spec);
    assert.equal(args[args.indexOf("-sandbox") + 1], SANDBOX);
    assert.equal(probe[probe.indexOf("-sandbox") + 1], SANDBOX, "the KVM probe boot too");
    assert.match(SANDBOX, /^on,.*spawn=deny/);
    assert.ok(!args.some((a) => a.startsWith("file,")), "no file chardev");
  });
});

const kernel = existsSync("/boot")
  ? readdirSync("/boot")
      .filter((n) => /^vmlinuz-.*-cloud-amd64$/.test(n))
      .sort()
      .pop()
  : undefined;
const skip =
  process.env.AIRLOCK_VM_TESTS !== "1"
    ? "boots a guest: AIRLOCK_VM_TESTS=1"
    : !kernel
      ? "no /boot/vmlinuz-*-cloud-amd64"
      : false;

void describe("console of a real guest", { skip }, () => {
  it("a verbose guest kernel is cut to the bound, and its last lines are kept", async () => {
    const dir = mkdtempSync(path.join(tmp, "vm-"));
    const initramfs = await ensureInitramfs(path.join(tmp, "cache"), {
      kernelVersion: kernel!.replace(/^vmlinuz-/, ""),
      busybox: "/bin/busybox",
      guestHelper: nativeBinary("airlock-guest"),
    });
    // A probe boot powers off once its modules are loaded; it succeeds only if "airlock-init:
    // probe", printed near the end, is in the log: the tail survives the cut.
    await boot({
      qemu: "/usr/bin/qemu-system-x86_64",
      accel: "tcg",
      kernel: path.join("/boot", kernel!),
      initramfs,
      dir,
      memoryMb: 256,
      cpus: 1,
      disks: [],
      params: {},
      extraArgs: ["loglevel=8", "ignore_loglevel", "initcall_debug"],
      targets: [],
      deadlineMs: 120_000,
      probe: true,
      consoleBytes: { head: 4096, tail: 16384 },
    });
    const text = readFileSync(path.join(dir, "console.log"), "utf8");
    const m = /\[airlock: (\d+) bytes of console output dropped\]/.exec(text);
    assert.ok(m, "truncation marker");
    assert.ok(Number(m[1]) > 10_000, `${m[1]} bytes dropped`);
    assert.ok(statSync(path.join(dir, "console.log")).size <= 4096 + 16384 + m[0].length + 2);
    assert.match(text.slice(m.index), /airlock-init: probe/);
  });
});
