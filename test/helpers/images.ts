// Image test helpers: small rootfs tarballs made on the spot (no mmdebstrap, for store logic), a
// private store per test file, and the node's real default image for jobs (built when missing,
// as scripts/test.sh does before the suite).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadOptions } from "../../src/config/index.js";
import {
  buildImage,
  DEFAULT_IMAGE,
  DEFAULT_PACKAGES,
  DEFAULT_SUITE,
  DEFAULT_VARIANT,
  ImageStore,
} from "../../src/images/index.js";
import type { ResolvedImage } from "../../src/images/index.js";

/** A tarball in mmdebstrap's layout (./-prefixed entries) holding `files` (path → content). */
export function makeTarball(files: Record<string, string>): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "airlock-tarball-"));
  const root = join(dir, "root");
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  mkdirSync(root, { recursive: true });
  const file = join(dir, "image.tar");
  // Fixed owner, mode and time: the same files always give the same bytes.
  execFileSync("tar", [
    "--create",
    "--file",
    file,
    "--directory",
    root,
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mtime=@0",
    ".",
  ]);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh, empty store in a temp folder. */
export function tempStore(): { store: ImageStore; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "airlock-images-"));
  return {
    store: new ImageStore(join(dir, "store")),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The node's default image (debian-12) in the configured store; built first when missing (minutes). */
export async function defaultImage(): Promise<ResolvedImage> {
  const store = new ImageStore(loadOptions().imagesDir);
  const have = store.resolve(DEFAULT_IMAGE);
  if (have) return have;
  const r = await buildImage(store, {
    name: DEFAULT_IMAGE,
    packages: [...DEFAULT_PACKAGES],
    suite: DEFAULT_SUITE,
    variant: DEFAULT_VARIANT,
  });
  return r.image;
}
