// Hostile archives, each built here (yazl, tar-stream, raw bytes for what those refuse to write),
// each refused for its own rule (asserted by rule name, so removing a rule fails its case), by
// inspection and by extraction alike — and extraction leaves nothing behind: the destination does
// not exist and its parent holds no temporary directory afterwards.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { extractArchive, inspectArchive, type ArchiveLimits } from "../../src/artifacts/archive/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { packTar, patchTarHeader, rawZip, yazlZip } from "./archive-builders.js";

const root = mkdtempSync(join(tmpdir(), "airlock-archive-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function save(bytes: Buffer): string {
  const path = join(root, `in-${++n}`);
  writeFileSync(path, bytes);
  return path;
}

function rejectedFor(rule: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(isAirlockError(err, "ARCHIVE_REJECTED"), `expected ARCHIVE_REJECTED, got ${String(err)}`);
    assert.equal((err.details as { rule: string }).rule, rule, err.message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  };
}

/** Refused by inspect and by extract, for `rule`, with nothing left where extraction went. */
async function refused(bytes: Buffer, rule: string, limits: Partial<ArchiveLimits> = {}): Promise<void> {
  const path = save(bytes);
  await assert.rejects(inspectArchive(path, limits), rejectedFor(rule));
  const parent = join(root, `out-${++n}`);
  mkdirSync(parent);
  await assert.rejects(extractArchive(path, join(parent, "dest"), limits), rejectedFor(rule));
  assert.deepEqual(readdirSync(parent), [], "nothing is left beside the destination");
}

const zeros = (size: number): Buffer => Buffer.alloc(size);

describe("names", () => {
  test("absolute paths", async () => {
    await refused(rawZip([{ name: "/etc/passwd", data: "x" }]), "absolute-path");
    await refused(await packTar([{ name: "/tmp/evil", data: "x" }]), "absolute-path");
  });
  test('".." components, even ones that stay inside', async () => {
    await refused(rawZip([{ name: "../evil", data: "x" }]), "parent-component");
    await refused(await packTar([{ name: "a/../../evil", data: "x" }]), "parent-component");
    await refused(rawZip([{ name: "a/../b", data: "x" }]), "parent-component");
  });
  test("backslashes and drive letters", async () => {
    await refused(rawZip([{ name: "..\\evil", data: "x" }]), "backslash");
    await refused(rawZip([{ name: "C:/Windows/evil", data: "x" }]), "drive-letter");
    await refused(rawZip([{ name: "c:evil", data: "x" }]), "drive-letter");
  });
  test("control characters, bad UTF-8, empty names, over-long components", async () => {
    await refused(rawZip([{ name: "a\nb", data: "x" }]), "control-character");
    await refused(rawZip([{ name: Buffer.from([0x61, 0xff, 0x62]), data: "x" }]), "name-encoding");
    await refused(
      patchTarHeader(await packTar([{ name: "abc", data: "x" }]), 0, (h) => (h[1] = 0xff)),
      "name-encoding",
    );
    await refused(rawZip([{ name: ".", data: "x" }]), "empty-path");
    await refused(await packTar([{ name: `${"a".repeat(256)}/b`, data: "x" }]), "path-too-long");
    await refused(rawZip([{ name: "a/".repeat(3000), data: "x" }]), "path-too-long");
  });
  test("duplicates, case collisions, entries under a file", async () => {
    await refused(
      rawZip([
        { name: "a.txt", data: "1" },
        { name: "a.txt", data: "2" },
      ]),
      "duplicate-path",
    );
    await refused(
      await packTar([
        { name: "a", data: "1" },
        { name: "./a", data: "2" },
      ]),
      "duplicate-path",
    );
    await refused(
      rawZip([
        { name: "README", data: "1" },
        { name: "readme", data: "2" },
      ]),
      "case-collision",
    );
    await refused(
      await packTar([
        { name: "e\u0301", data: "1" },
        { name: "\u00e9", data: "2" },
      ]),
      "case-collision",
    );
    await refused(
      rawZip([
        { name: "a", data: "1" },
        { name: "a/b", data: "2" },
      ]),
      "path-conflict",
    );
    await refused(
      rawZip([
        { name: "a/b", data: "2" },
        { name: "a", data: "1" },
      ]),
      "path-conflict",
    );
  });
  test("case collisions pass when allowed (case-sensitive destinations)", async () => {
    const path = save(
      rawZip([
        { name: "README", data: "1" },
        { name: "readme", data: "2" },
      ]),
    );
    const entries = await inspectArchive(path, { refuseCaseCollisions: false });
    assert.deepEqual(
      entries.map((e) => e.path),
      ["README", "readme"],
    );
  });
});

describe("links", () => {
  test("symlinks whose target is outside", async () => {
    await refused(rawZip([{ name: "l", data: "../outside", mode: 0o120777 }]), "symlink-escape");
    await refused(rawZip([{ name: "l", data: "/etc/passwd", mode: 0o120777 }]), "symlink-escape");
    await refused(rawZip([{ name: "l", data: "c:/Windows", mode: 0o120777 }]), "symlink-escape");
    await refused(rawZip([{ name: "l", data: "..\\..\\x", mode: 0o120777 }]), "backslash");
    await refused(await packTar([{ name: "d/l", type: "symlink", linkname: "../../x" }]), "symlink-escape");
  });
  test("symlinks that escape only when followed through another symlink", async () => {
    // Lexically "a/.." is the root; really a is the root, so a/.. is its parent.
    const tarBytes = await packTar([
      { name: "a", type: "symlink", linkname: "." },
      { name: "b", type: "symlink", linkname: "a/.." },
    ]);
    await refused(tarBytes, "symlink-escape");
  });
  test("symlink loops", async () => {
    await refused(
      await packTar([
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "a" },
      ]),
      "symlink-loop",
    );
  });
  test("entries written through a symlink", async () => {
    await refused(
      await packTar([
        { name: "sub/", type: "directory", mode: 0o755 },
        { name: "l", type: "symlink", linkname: "sub" },
        { name: "l/x", data: "through the link" },
      ]),
      "path-conflict",
    );
  });
  test("hardlinks to anything but an earlier regular file", async () => {
    await refused(
      await packTar([{ name: "h", type: "link", linkname: "../../etc/passwd" }]),
      "parent-component",
    );
    await refused(await packTar([{ name: "h", type: "link", linkname: "/etc/passwd" }]), "absolute-path");
    await refused(
      await packTar([
        { name: "h", type: "link", linkname: "later" },
        { name: "later", data: "x" },
      ]),
      "hardlink-target",
    );
    await refused(
      await packTar([
        { name: "s", type: "symlink", linkname: "x" },
        { name: "h", type: "link", linkname: "s" },
      ]),
      "hardlink-target",
    );
  });
});

describe("types and modes", () => {
  test("devices, FIFOs, sockets and unknown types", async () => {
    await refused(await packTar([{ name: "null", type: "character-device" }]), "special-file");
    await refused(await packTar([{ name: "sda", type: "block-device" }]), "special-file");
    await refused(await packTar([{ name: "pipe", type: "fifo" }]), "special-file");
    await refused(rawZip([{ name: "pipe", mode: 0o010644 }]), "special-file");
    await refused(rawZip([{ name: "sock", mode: 0o140755 }]), "special-file");
    const sparse = patchTarHeader(await packTar([{ name: "s", data: "x" }]), 0, (h) =>
      h.write("S", 156, "latin1"),
    );
    await refused(sparse, "special-file");
  });
  test("setuid, setgid and sticky bits", async () => {
    await refused(rawZip([{ name: "su", data: "x", mode: 0o104755 }]), "special-mode-bits");
    await refused(await packTar([{ name: "sg", data: "x", mode: 0o2755 }]), "special-mode-bits");
    await refused(await packTar([{ name: "tmp/", type: "directory", mode: 0o1777 }]), "special-mode-bits");
  });
});

describe("sizes and bombs", () => {
  test("a 42 kB zip whose entries share one kernel (gigabytes) is refused before inflating", async () => {
    const kernel = zeros(40 * 1024 * 1024);
    const items = [
      { name: "0", data: kernel, deflate: true },
      ...Array.from({ length: 250 }, (_, i) => ({ name: `${i + 1}`, shareWith: 0 })),
    ];
    const bomb = rawZip(items);
    assert.ok(bomb.length < 60_000, `bomb is ${bomb.length} bytes`);
    await refused(bomb, "overlapping-entries");
  });
  test("the expansion ratio is held to the bytes produced (zip entry, tar.gz stream)", async () => {
    await refused(rawZip([{ name: "z", data: zeros(20 * 1024 * 1024), deflate: true }]), "compression-ratio");
    await refused(await packTar([{ name: "z", data: zeros(20 * 1024 * 1024) }], true), "compression-ratio");
    // Incompressible padding keeps the archive's overall ratio low; the entry's own ratio is not.
    const padded = rawZip([
      { name: "pad", data: randomBytes(200_000) },
      { name: "z", data: zeros(20 * 1024 * 1024), deflate: true },
    ]);
    await refused(padded, "compression-ratio");
  });
  test("per-entry, total and entry-count limits", async () => {
    const kb = Buffer.alloc(1000, 1);
    await refused(rawZip([{ name: "big", data: Buffer.alloc(2000, 1) }]), "entry-too-large", {
      maxEntryBytes: 1000,
    });
    await refused(await packTar([{ name: "big", data: Buffer.alloc(2000, 1) }]), "entry-too-large", {
      maxEntryBytes: 1000,
    });
    await refused(
      rawZip([
        { name: "a", data: kb },
        { name: "b", data: kb },
      ]),
      "total-too-large",
      { maxTotalBytes: 1500 },
    );
    await refused(
      await packTar([
        { name: "a", data: kb },
        { name: "b", data: kb },
      ]),
      "total-too-large",
      { maxTotalBytes: 1500 },
    );
    const four = ["a", "b", "c", "d"].map((name) => ({ name, data: "x" }));
    await refused(rawZip(four), "too-many-entries", { maxEntries: 3 });
    await refused(await packTar(four), "too-many-entries", { maxEntries: 3 });
  });
  test("local headers that disagree with the directory (what a streaming unzip would read)", async () => {
    await refused(rawZip([{ name: "safe.txt", localName: "../evil", data: "x" }]), "header-mismatch");
    await refused(rawZip([{ name: "a", data: "hello", deflate: true, centralSize: 3 }]), "header-mismatch");
  });
  test("bytes between entries that the directory does not list", async () => {
    const hiddenFirst = rawZip([
      { name: "../evil", data: "pwned", unlisted: true },
      { name: "ok.txt", data: "fine" },
    ]);
    await refused(hiddenFirst, "hidden-data");
    const hiddenLast = rawZip([
      { name: "ok.txt", data: "fine" },
      { name: "../evil", data: "pwned", unlisted: true },
    ]);
    await refused(hiddenLast, "hidden-data");
  });
  test("declared sizes and CRCs that do not match the content", async () => {
    await refused(rawZip([{ name: "a", data: "hello", deflate: true, declaredSize: 3 }]), "size-mismatch");
    await refused(rawZip([{ name: "a", data: "hello", deflate: true, declaredSize: 9 }]), "size-mismatch");
    await refused(rawZip([{ name: "a", data: "hello", crc: 12345 }]), "crc-mismatch");
    const tarBytes = await packTar([{ name: "a", data: "hello world" }]);
    await refused(tarBytes.subarray(0, 520), "corrupt");
    await refused(
      patchTarHeader(tarBytes, 0, (h) => h.write("00000007777\0", 124, "latin1")),
      "corrupt",
    );
  });
  test("a zip arriving as a stream is spooled no further than maxArchiveBytes", async () => {
    const zip = rawZip([{ name: "a", data: Buffer.alloc(5000, 7) }]);
    await assert.rejects(
      inspectArchive(Readable.from([zip]), { maxArchiveBytes: 4096 }),
      rejectedFor("archive-too-large"),
    );
  });
});

describe("formats", () => {
  test("zstd, xz, bzip2 and unknown bytes are refused by their magic", async () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
    await refused(zstd, "format");
    // actions/cache writes zstd where it can: the refusal must say so, not "unknown format".
    await assert.rejects(inspectArchive(Readable.from([zstd])), /zstd-compressed archives are not supported/);
    await refused(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]), "format");
    await refused(Buffer.from("BZh91AY&SY"), "format");
    await refused(Buffer.from("just some text, not an archive"), "format");
    await refused(Buffer.alloc(0), "format");
  });
  test("truncated or garbled containers", async () => {
    const gz = await packTar([{ name: "a", data: Buffer.alloc(100_000, 3) }], true);
    await refused(gz.subarray(0, gz.length - 100), "corrupt");
    const zip = rawZip([{ name: "a", data: "hello" }]);
    await refused(zip.subarray(0, zip.length - 5), "corrupt");
  });
  test("encrypted entries and unknown compression methods", async () => {
    await refused(rawZip([{ name: "a", data: "hello", flags: 0x801 }]), "encrypted");
    await refused(rawZip([{ name: "a", data: "hello", method: 12 }]), "compression-method");
  });
  test("a zip written by yazl with a name it would refuse, patched in place", async () => {
    const zip = await yazlZip([{ name: "XXevil", data: "x" }]);
    await refused(
      Buffer.from(zip.toString("latin1").replaceAll("XXevil", "../evi"), "latin1"),
      "parent-component",
    );
  });
});
