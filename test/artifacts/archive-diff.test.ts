// The corroboration report between two archives: entries only one side has, entries that differ,
// and for the first differing file the offset of the first differing byte with a few bytes of hex
// from each side — whatever the container (a zip and a tar.gz of the same tree are identical).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { diffArchives } from "../../src/artifacts/archive/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { packTar, rawZip, yazlZip } from "./archive-builders.js";

const root = mkdtempSync(join(tmpdir(), "airlock-archive-d-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const save = (bytes: Buffer): string => {
  const path = join(root, `a-${++n}`);
  writeFileSync(path, bytes);
  return path;
};

const big = randomBytes(400_000);
const flipped = Buffer.from(big);
flipped[250_001] = flipped[250_001]! ^ 0xff;

test("identical content is identical, across zip and tar.gz", async () => {
  const zip = save(
    await yazlZip([
      { name: "x.bin", data: big, mode: 0o100644 },
      { name: "run.sh", data: "echo\n", mode: 0o100755 },
    ]),
  );
  const tgz = save(
    await packTar(
      [
        { name: "x.bin", data: big, mode: 0o644 },
        { name: "run.sh", data: "echo\n", mode: 0o755 },
      ],
      true,
    ),
  );
  const diff = await diffArchives(zip, tgz);
  assert.equal(diff.identical, true);
  assert.equal(diff.firstDifference, undefined);
});

test("file lists, changed entries and the first differing bytes", async () => {
  const a = save(
    await yazlZip([
      { name: "only-a.txt", data: "a" },
      { name: "run.sh", data: "echo\n", mode: 0o100755 },
      { name: "x.bin", data: big, mode: 0o100644 },
      { name: "z.txt", data: "same", mode: 0o100644 },
    ]),
  );
  const b = save(
    await packTar(
      [
        { name: "only-b.txt", data: "b" },
        { name: "run.sh", data: "echo\n", mode: 0o644 },
        { name: "x.bin", data: flipped, mode: 0o644 },
        { name: "z.txt", data: "same" },
      ],
      true,
    ),
  );
  const diff = await diffArchives(a, b);
  assert.equal(diff.identical, false);
  assert.deepEqual(diff.onlyInA, ["only-a.txt"]);
  assert.deepEqual(diff.onlyInB, ["only-b.txt"]);
  assert.deepEqual(
    diff.changed.map((c) => c.path),
    ["run.sh", "x.bin"],
  );
  assert.deepEqual(diff.firstDifference, {
    path: "x.bin",
    offset: 250_001,
    a: big.subarray(250_001, 250_017).toString("hex"),
    b: flipped.subarray(250_001, 250_017).toString("hex"),
  });
});

test("a file that is a prefix of the other differs where the shorter ends", async () => {
  const a = save(rawZip([{ name: "f", data: "abc" }]));
  const b = save(rawZip([{ name: "f", data: "abcdef" }]));
  const diff = await diffArchives(a, b);
  assert.deepEqual(diff.firstDifference, {
    path: "f",
    offset: 3,
    a: "",
    b: Buffer.from("def").toString("hex"),
  });
});

test("an unsafe archive is refused, not compared", async () => {
  const a = save(rawZip([{ name: "f", data: "abc" }]));
  const b = save(rawZip([{ name: "../f", data: "abc" }]));
  await assert.rejects(diffArchives(a, b), (err) => isAirlockError(err, "ARCHIVE_REJECTED"));
});
