// The `debian-12` job image's unpacked rootfs, for tests that run real jobs on a real image.
// Found, in order: AIRLOCK_TEST_IMAGE_ROOTFS (a rootfs folder), else the seed tarball
// (AIRLOCK_TEST_IMAGE_TAR, default /work/seed/debian-12.tar) unpacked once under /var/tmp (keyed
// by the tarball's size and mtime; unpacked beside and renamed, so a half-unpacked tree is never
// used and parallel test files share one copy), else the node image store's debian-12.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadOptions } from "../../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../../src/images/index.js";

const CACHE = "/var/tmp/airlock-test-images";

export function jobImageRootfs(): string {
  const given = process.env.AIRLOCK_TEST_IMAGE_ROOTFS;
  if (given) {
    if (!existsSync(join(given, "bin")))
      throw new Error(`AIRLOCK_TEST_IMAGE_ROOTFS=${given} is not a rootfs`);
    return given;
  }
  const tar = process.env.AIRLOCK_TEST_IMAGE_TAR ?? "/work/seed/debian-12.tar";
  if (!existsSync(tar)) {
    // The node's own store: scripts/test.sh builds debian-12 there when it is missing.
    const stored = new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE);
    if (stored) return stored.rootfs;
    throw new Error(
      `no debian-12 image for tests: run 'airlock image build debian-12', or set AIRLOCK_TEST_IMAGE_ROOTFS or AIRLOCK_TEST_IMAGE_TAR (${tar})`,
    );
  }
  const st = statSync(tar);
  const dir = join(CACHE, `debian-12-${st.size}-${Math.floor(st.mtimeMs)}`);
  if (existsSync(join(dir, "bin"))) return dir;
  mkdirSync(CACHE, { recursive: true, mode: 0o755 });
  chmodSync(CACHE, 0o755); // the sandbox's unprivileged host user must traverse it
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o755 });
  execFileSync("tar", ["-xf", tar, "-C", tmp, "--numeric-owner"], { stdio: ["ignore", "ignore", "pipe"] });
  chmodSync(tmp, 0o755);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another test process won the race: use its copy.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, "bin"))) throw e;
  }
  return dir;
}
