// The image store on its own (small tarballs made on the spot, no mmdebstrap): add → list →
// resolve → remove; content addressing (same bytes, same digest, one rootfs for two names); two
// adds at once; removal refused while a machine holds a lease, and not blocked by a dead process's
// lease; bad names refused with IMAGE_INVALID before they touch the disk.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAirlockError } from "../../src/errors/index.js";
import { ImageStore, sha256File } from "../../src/images/index.js";
import { makeTarball, tempStore } from "../helpers/images.js";

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function tarball(files: Record<string, string>): string {
  const t = makeTarball(files);
  cleanups.push(() => t.remove());
  return t.file;
}

function store(): ImageStore {
  const s = tempStore();
  cleanups.push(() => s.remove());
  return s.store;
}

const code = (c: string) => (e: unknown) => isAirlockError(e, c as never);

describe("image store", () => {
  it("adds, lists, resolves and removes an image", async () => {
    const s = store();
    const file = tarball({ "etc/os-release": "ID=tiny\n", "usr/bin/hello": "#!/bin/sh\necho hi\n" });
    const added = await s.add("tiny", file, { importedFrom: file });
    assert.equal(added.digest, `sha256:${await sha256File(file)}`);
    assert.equal(readFileSync(join(added.rootfs, "etc/os-release"), "utf8"), "ID=tiny\n");
    assert.ok(existsSync(file), "an import copies, it does not take the caller's file");
    assert.deepEqual(
      s.list().map((i) => [i.name, i.digest]),
      [["tiny", added.digest]],
    );
    assert.deepEqual(s.names(), ["tiny"]);
    assert.equal(s.resolve("tiny")?.rootfs, added.rootfs);
    assert.equal(s.resolve("other"), undefined);
    const removed = await s.remove("tiny");
    assert.equal(removed.digest, added.digest);
    assert.ok(removed.freedBytes > 0);
    assert.deepEqual(s.list(), []);
    assert.ok(!existsSync(added.rootfs));
    assert.deepEqual(readdirSync(join(s.dir, "blobs", "sha256")), []);
    assert.deepEqual(readdirSync(join(s.dir, "tmp")), [], "nothing left half-done");
    await assert.rejects(s.remove("tiny"), code("IMAGE_NOT_FOUND"));
  });

  it("is content-addressed: the same bytes under two names share one rootfs", async () => {
    const s = store();
    const files = { "etc/marker": "same\n" };
    const a = await s.add("a", tarball(files), {});
    const b = await s.add("b", tarball(files), {});
    assert.equal(a.digest, b.digest);
    assert.equal(a.rootfs, b.rootfs);
    assert.equal(readdirSync(join(s.dir, "rootfs")).length, 1);
    // Removing one name keeps the rootfs the other still names.
    assert.equal((await s.remove("a")).freedBytes, 0);
    assert.ok(existsSync(b.rootfs));
    assert.deepEqual(s.names(), ["b"]);
    const c = await s.add("c", tarball({ "etc/marker": "different\n" }), {});
    assert.notEqual(c.digest, b.digest);
  });

  it("replaces a name atomically and keeps the old rootfs while another name uses it", async () => {
    const s = store();
    const first = await s.add("x", tarball({ v: "1" }), {});
    const second = await s.add("x", tarball({ v: "2" }), {});
    assert.notEqual(first.digest, second.digest);
    assert.equal(readFileSync(join(s.resolve("x")!.rootfs, "v"), "utf8"), "2");
  });

  it("two adds of the same image at once give one rootfs and leave no temporary files", async () => {
    const s = store();
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`usr/share/f${i}`] = `file ${i}\n`;
    const [a, b] = await Promise.all([s.add("one", tarball(files), {}), s.add("two", tarball(files), {})]);
    assert.equal(a.digest, b.digest);
    assert.deepEqual(readdirSync(join(s.dir, "rootfs")), [a.digest.slice(7)]);
    assert.equal(readdirSync(join(a.rootfs, "usr/share")).length, 200);
    assert.deepEqual(readdirSync(join(s.dir, "tmp")), []);
    assert.ok(!existsSync(join(s.dir, "lock")));
  });

  it("refuses to remove an image a machine holds, and removes it once released", async () => {
    const s = store();
    const img = await s.add("held", tarball({ "etc/held": "yes\n" }), {});
    const lease = s.acquire("held");
    assert.equal(lease.rootfs, img.rootfs);
    await assert.rejects(s.remove("held"), code("IMAGE_IN_USE"));
    // State as it was: still listed, rootfs and its files in place.
    assert.deepEqual(s.names(), ["held"]);
    assert.equal(readFileSync(join(img.rootfs, "etc/held"), "utf8"), "yes\n");
    lease.release();
    lease.release(); // idempotent
    await s.remove("held");
    assert.deepEqual(s.names(), []);
    assert.throws(() => s.acquire("held"), code("IMAGE_NOT_FOUND"));
  });

  it("does not count the lease of a process that died", async () => {
    const s = store();
    const img = await s.add("stale", tarball({ "etc/x": "x" }), {});
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    const dir = join(s.dir, "leases", img.digest.slice(7));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${dead}-deadbeef0000`), "");
    await s.remove("stale");
    assert.deepEqual(s.names(), []);
  });

  it("refuses bad names with IMAGE_INVALID before touching the disk", async () => {
    const s = store();
    const file = tarball({ "etc/x": "x" });
    for (const bad of [
      "",
      "../etc",
      "a/b",
      "-rf",
      "Upper",
      "x;rm -rf /",
      "a b",
      ".hidden",
      "x".repeat(65),
      "a\nb",
    ]) {
      await assert.rejects(s.add(bad, file, {}), code("IMAGE_INVALID"), JSON.stringify(bad));
      assert.throws(() => s.resolve(bad), code("IMAGE_INVALID"));
      await assert.rejects(s.remove(bad), code("IMAGE_INVALID"));
    }
    assert.ok(!existsSync(s.dir), "nothing was created");
  });

  it("reports a missing store as no images", () => {
    const s = new ImageStore("/nonexistent/airlock-images");
    assert.deepEqual(s.list(), []);
    assert.equal(s.resolve("debian-12"), undefined);
  });

  it("keeps the blob read-only and the rootfs traversable by the sandbox's user", async () => {
    const s = store();
    const img = await s.add("modes", tarball({ "etc/x": "x" }), {});
    const blob = join(s.dir, "blobs", "sha256", img.digest.slice(7));
    assert.equal(statSync(blob).mode & 0o777, 0o444);
    assert.equal(statSync(img.rootfs).mode & 0o777, 0o755);
    for (const d of [s.dir, join(s.dir, "rootfs")]) assert.equal(statSync(d).mode & 0o005, 0o005);
  });
});
