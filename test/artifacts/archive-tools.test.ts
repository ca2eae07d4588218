// Archives made by the real producers: a zip written by archiver exactly as @actions/artifact's
// upload does (zip.file / zip.append), and tars written by GNU tar as @actions/cache runs it
// (`--posix -cf … -P -C <workspace> --files-from <manifest>`, gzip and zstd). Honest ones
// round-trip exactly; a cache of a path outside the workspace (manifest entry `../x`, which
// @actions/cache writes for ~/.npm and the like) is refused, and zstd is refused by name.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createWriteStream,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { after, before, test } from "node:test";
import { extractArchive, inspectArchive } from "../../src/artifacts/archive/index.js";
import { isAirlockError } from "../../src/errors/index.js";

interface Archiver extends NodeJS.ReadableStream {
  file(path: string, data: { name: string }): void;
  append(source: string, data: { name: string }): void;
  finalize(): Promise<void>;
}
const archiver = createRequire(import.meta.url)("archiver") as {
  create(format: "zip", opts: object): Archiver;
};

const root = mkdtempSync(join(tmpdir(), "airlock-archive-t-"));
const ws = join(root, "ws");
const files = [
  { path: "dist/app.js", data: Buffer.from("console.log(1)\n"), mode: 0o644 },
  { path: "dist/run", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
  { path: "dist/data.bin", data: randomBytes(500_000), mode: 0o600 },
];

before(() => {
  for (const f of files) {
    mkdirSync(join(ws, f.path, ".."), { recursive: true });
    writeFileSync(join(ws, f.path), f.data);
    chmodSync(join(ws, f.path), f.mode);
  }
  symlinkSync("app.js", join(ws, "dist/link.js"));
  linkSync(join(ws, "dist/app.js"), join(ws, "dist/app-hard.js"));
  mkdirSync(join(ws, "dist/empty"), { mode: 0o700 });
  chmodSync(join(ws, "dist/empty"), 0o700);
});
after(() => rmSync(root, { recursive: true, force: true }));

function verifyFiles(dest: string): void {
  for (const f of files) {
    assert.deepEqual(readFileSync(join(dest, f.path)), f.data, f.path);
    assert.equal(lstatSync(join(dest, f.path)).mode & 0o7777, f.mode, f.path);
  }
}

test("a zip written as @actions/artifact writes it round-trips", async () => {
  const zip = archiver.create("zip", { zlib: { level: 6 } });
  for (const f of files) zip.file(join(ws, f.path), { name: f.path });
  zip.append("", { name: "dist/empty" });
  const path = join(root, "artifact.zip");
  const out = createWriteStream(path);
  zip.pipe(out);
  await zip.finalize();
  await finished(out);
  const dest = join(root, "from-zip");
  await extractArchive(path, dest);
  verifyFiles(dest);
});

function gnuTar(name: string, manifest: string[], compress: string[]): string {
  const archive = join(root, name);
  writeFileSync(join(root, `${name}.manifest`), manifest.join("\n") + "\n");
  execFileSync("tar", [
    ...compress,
    "--posix",
    "-cf",
    archive,
    "-P",
    "-C",
    ws,
    "--files-from",
    join(root, `${name}.manifest`),
  ]);
  return archive;
}

test("a tar.gz written by GNU tar as @actions/cache runs it round-trips, links included", async () => {
  const archive = gnuTar("cache.tgz", ["dist"], ["-z"]);
  const dest = join(root, "from-tgz");
  await extractArchive(archive, dest);
  verifyFiles(dest);
  assert.equal(readlinkSync(join(dest, "dist/link.js")), "app.js");
  assert.equal(lstatSync(join(dest, "dist/app-hard.js")).ino, lstatSync(join(dest, "dist/app.js")).ino);
  assert.equal(lstatSync(join(dest, "dist/empty")).mode & 0o7777, 0o700);
});

test("a cache of a path outside the workspace (`../`) is refused", async () => {
  mkdirSync(join(root, "home/.npm"), { recursive: true });
  writeFileSync(join(root, "home/.npm/x"), "x");
  const archive = gnuTar("outside.tgz", ["../home/.npm"], ["-z"]);
  await assert.rejects(inspectArchive(archive), (err) => {
    assert.ok(isAirlockError(err, "ARCHIVE_REJECTED"));
    assert.equal((err.details as { rule: string }).rule, "parent-component");
    return true;
  });
});

test("a zstd cache is refused by name", async () => {
  const archive = gnuTar("cache.tzst", ["dist"], ["--zstd"]);
  await assert.rejects(inspectArchive(archive), /zstd-compressed archives are not supported/);
});
