// Honest archives round-trip exactly (bytes, modes, directories, symlinks, hardlinks) from zip,
// tar and tar.gz, from a path or a stream; an existing destination is refused and left as it was;
// a refusal that comes after files were already written (last entry, links checked at the end)
// leaves nothing behind.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { extractArchive, inspectArchive } from "../../src/artifacts/archive/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { packTar, rawZip, yazlZip, type TarItem } from "./archive-builders.js";

const root = mkdtempSync(join(tmpdir(), "airlock-archive-x-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return dir;
};

const blob = randomBytes(300_000);
const expected = {
  files: [
    { path: "README.md", data: Buffer.from("# hello\n"), mode: 0o644 },
    { path: "bin/run.sh", data: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
    { path: "lib/blob.bin", data: blob, mode: 0o600 },
    { path: "lib/empty", data: Buffer.alloc(0), mode: 0o640 },
    { path: "deep/a/b/c/d.txt", data: Buffer.from("deep"), mode: 0o444 },
  ],
  dirs: [{ path: "locked", mode: 0o550 }],
  links: [{ path: "bin/blob", target: "../lib/blob.bin" }],
};

function verify(dest: string): void {
  for (const f of expected.files) {
    assert.deepEqual(readFileSync(join(dest, f.path)), f.data, f.path);
    assert.equal(lstatSync(join(dest, f.path)).mode & 0o7777, f.mode, f.path);
  }
  for (const d of expected.dirs) assert.equal(lstatSync(join(dest, d.path)).mode & 0o7777, d.mode, d.path);
  for (const l of expected.links) {
    assert.ok(lstatSync(join(dest, l.path)).isSymbolicLink());
    assert.equal(readlinkSync(join(dest, l.path)), l.target);
  }
  assert.equal(lstatSync(dest).mode & 0o777, 0o755);
}

async function zipOfExpected(): Promise<Buffer> {
  return yazlZip([
    ...expected.files.map((f) => ({ name: f.path, data: f.data, mode: 0o100000 | f.mode })),
    ...expected.dirs.map((d) => ({ name: `${d.path}/`, dir: true, mode: 0o040000 | d.mode })),
    ...expected.links.map((l) => ({ name: l.path, data: l.target, mode: 0o120777 })),
  ]);
}

function tarItemsOfExpected(): TarItem[] {
  return [
    { name: "./", type: "directory", mode: 0o755 },
    ...expected.files.map((f): TarItem => ({ name: `./${f.path}`, data: f.data, mode: f.mode })),
    ...expected.dirs.map((d): TarItem => ({ name: `./${d.path}/`, type: "directory", mode: d.mode })),
    ...expected.links.map((l): TarItem => ({
      name: `./${l.path}`,
      type: "symlink",
      linkname: l.target,
      mode: 0o777,
    })),
  ];
}

test("a zip round-trips exactly, from a path and from a stream", async () => {
  const zip = await zipOfExpected();
  const path = join(fresh(), "a.zip");
  writeFileSync(path, zip);
  const dest = join(fresh(), "out");
  const entries = await extractArchive(path, dest);
  verify(dest);
  assert.equal(entries.length, expected.files.length + expected.dirs.length + expected.links.length);
  const fromStream = join(fresh(), "out");
  await extractArchive(Readable.from([zip.subarray(0, 100), zip.subarray(100)]), fromStream);
  verify(fromStream);
  assert.deepEqual(await inspectArchive(Readable.from([zip])), await inspectArchive(path));
});

test("a zip64 zip round-trips exactly", async () => {
  const files = expected.files.map((f) => ({ name: f.path, data: f.data, mode: 0o100000 | f.mode }));
  const path = join(fresh(), "a.zip");
  writeFileSync(path, await yazlZip(files, true));
  const dest = join(fresh(), "out");
  await extractArchive(path, dest);
  for (const f of expected.files) assert.deepEqual(readFileSync(join(dest, f.path)), f.data, f.path);
});

test("tar and tar.gz round-trip exactly, hardlinks included", async () => {
  for (const gzip of [false, true]) {
    const items = [
      ...tarItemsOfExpected(),
      { name: "./lib/blob-again", type: "link", linkname: "./lib/blob.bin" } as TarItem,
    ];
    const path = join(fresh(), gzip ? "a.tar.gz" : "a.tar");
    writeFileSync(path, await packTar(items, gzip));
    const dest = join(fresh(), "out");
    const entries = await extractArchive(path, dest);
    verify(dest);
    assert.equal(lstatSync(join(dest, "lib/blob-again")).ino, lstatSync(join(dest, "lib/blob.bin")).ino);
    assert.ok(!entries.some((e) => e.path === ""), "the ./ root is not an entry");
    const fromStream = join(fresh(), "out");
    await extractArchive(Readable.from([await packTar(items, gzip)]), fromStream);
    verify(fromStream);
  }
});

test("inspect lists entries with counted sizes and modes, writing nothing", async () => {
  const path = join(fresh(), "a.zip");
  writeFileSync(path, await zipOfExpected());
  const entries = await inspectArchive(path);
  const blobEntry = entries.find((e) => e.path === "lib/blob.bin");
  assert.deepEqual(blobEntry, { path: "lib/blob.bin", type: "file", size: blob.length, mode: 0o600 });
  assert.deepEqual(
    entries.find((e) => e.path === "bin/blob"),
    { path: "bin/blob", type: "symlink", size: 0, mode: 0o777, linkTarget: "../lib/blob.bin" },
  );
});

test("an existing destination is refused and left as it was", async () => {
  const path = join(fresh(), "a.zip");
  writeFileSync(path, await zipOfExpected());
  const dest = join(fresh(), "out");
  mkdirSync(dest);
  writeFileSync(join(dest, "keep"), "mine");
  await assert.rejects(extractArchive(path, dest), (err) => isAirlockError(err, "CONFLICT"));
  assert.deepEqual(readdirSync(dest), ["keep"]);
  assert.equal(readFileSync(join(dest, "keep"), "utf8"), "mine");
});

test("a refusal after files were written leaves nothing behind", async () => {
  const cases: Buffer[] = [
    // Last entry's CRC is wrong: everything before it was already written.
    rawZip([
      { name: "big", data: randomBytes(2_000_000), deflate: true },
      { name: "ro/x", data: "a", mode: 0o100444 },
      { name: "last", data: "z", crc: 1 },
    ]),
    // The escaping symlink comes first; it is only found once the whole archive is known.
    await packTar([
      { name: "a", type: "symlink", linkname: "." },
      { name: "b", type: "symlink", linkname: "a/.." },
      { name: "locked/", type: "directory", mode: 0o500 },
      { name: "file", data: randomBytes(100_000) },
    ]),
  ];
  for (const bytes of cases) {
    const path = join(fresh(), "in");
    writeFileSync(path, bytes);
    const parent = fresh();
    await assert.rejects(extractArchive(path, join(parent, "out")), (err) =>
      isAirlockError(err, "ARCHIVE_REJECTED"),
    );
    assert.deepEqual(readdirSync(parent), []);
  }
});
