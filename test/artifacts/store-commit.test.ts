// The local blob store's commit of staged parts on a real filesystem: the blob is the parts'
// concatenation (whole, by any range, across segment edges), named by the digest of exactly those
// bytes; the same bytes twice are one blob in whichever form came first; a refused or failed
// commit leaves nothing; parts stay staged until deleteUpload; a segmented blob deletes whole.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { LocalBlobStore } from "../../src/artifacts/index.js";

let dir: string;
let store: LocalBlobStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-commit-"));
  store = new LocalBlobStore(dir);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
async function stage(upload: string, parts: Record<string, Buffer>): Promise<void> {
  for (const [name, bytes] of Object.entries(parts))
    await store.putPart(upload, name, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
}
const blobPath = (digest: string): string => join(dir, "sha256", digest.slice(0, 2), digest);

describe("committing staged parts in the local blob store", () => {
  it("makes one blob of the parts in the block list's order, readable by any range", async () => {
    const a = randomBytes(2 * MiB + 17);
    const b = randomBytes(MiB + 3);
    const c = randomBytes(3 * MiB);
    await stage("u1", { a, b, c, empty: Buffer.alloc(0) });
    const bytes = Buffer.concat([c, a, Buffer.alloc(0), b, a]);
    const info = await store.commitUpload("u1", ["c", "a", "empty", "b", "a"]);
    assert.deepEqual(info, { sha256: sha256(bytes), size: bytes.length });
    assert.ok((await drain((await store.get(info.sha256)).stream)).equals(bytes));
    // Ranges inside one part, across part edges, and to the end.
    for (const [start, end] of [
      [5, 10],
      [c.length - 3, c.length + a.length + 4],
      [c.length, c.length + a.length - 1],
      [bytes.length - 7, undefined],
      [0, bytes.length + 100],
    ] as Array<[number, number | undefined]>) {
      const r = await store.get(info.sha256, end === undefined ? { start } : { start, end });
      const want = bytes.subarray(start, end === undefined ? undefined : end + 1);
      assert.equal(r.size, bytes.length);
      assert.equal(r.end - r.start + 1, want.length);
      assert.ok((await drain(r.stream)).equals(want), `range ${start}-${end}`);
    }
    await assert.rejects(store.get(info.sha256, { start: bytes.length }), { code: "RANGE_NOT_SATISFIABLE" });
    // The parts stay staged (a commit may be retried) until the upload is dropped.
    assert.ok((await drain(await store.readPart("u1", "a"))).equals(a));
    await store.deleteUpload("u1");
    assert.ok((await drain((await store.get(info.sha256)).stream)).equals(bytes));
    // The same bytes again, committed or put whole: one blob, the first's form kept.
    await stage("u2", { x: Buffer.concat([c, a]), y: Buffer.concat([b, a]) });
    assert.deepEqual(await store.commitUpload("u2", ["x", "y"]), info);
    assert.deepEqual(await store.put(Readable.from([bytes])), info);
    assert.equal(await store.has(info.sha256), true);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    assert.equal(await store.delete(info.sha256), true);
    assert.equal(await store.has(info.sha256), false);
    assert.equal(await store.delete(info.sha256), false);
    await assert.rejects(store.get(info.sha256), { code: "BLOB_NOT_FOUND" });
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    // Put whole first, then committed from parts: still the one (plain-file) blob.
    await store.put(Readable.from([bytes]));
    assert.deepEqual(await store.commitUpload("u2", ["x", "y"]), info);
    assert.equal((await stat(blobPath(info.sha256))).isFile(), true);
    await store.deleteUpload("u2");
    await store.delete(info.sha256);
  });

  it("keeps a blob of one part, of none, and of many small parts as plain files", async () => {
    const one = randomBytes(MiB + 1);
    await stage("u3", { one, none: Buffer.alloc(0) });
    const info = await store.commitUpload("u3", ["none", "one", "none"]);
    assert.deepEqual(info, { sha256: sha256(one), size: one.length });
    assert.equal((await stat(blobPath(info.sha256))).mode & 0o777, 0o600);
    assert.ok((await drain((await store.get(info.sha256, { start: 1 })).stream)).equals(one.subarray(1)));
    const empty = await store.commitUpload("u3", ["none"]);
    assert.equal(empty.size, 0);
    assert.equal((await drain((await store.get(empty.sha256)).stream)).length, 0);
    const small = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i, i));
    await stage("u4", Object.fromEntries(small.map((b, i) => [`s${i}`, b])));
    const many = await store.commitUpload(
      "u4",
      small.map((_, i) => `s${i}`),
    );
    assert.equal(many.sha256, sha256(Buffer.concat(small)));
    assert.equal((await stat(blobPath(many.sha256))).isFile(), true);
    await store.deleteUpload("u3");
    await store.deleteUpload("u4");
  });

  it("refuses a missing part and a blob past maxBytes, leaving nothing", async () => {
    const a = randomBytes(2 * MiB);
    const b = randomBytes(2 * MiB);
    await stage("u5", { a, b });
    await assert.rejects(store.commitUpload("u5", ["a", "nope", "b"]), { code: "BLOB_NOT_FOUND" });
    await assert.rejects(store.commitUpload("u5", ["a", "b"], { maxBytes: 4 * MiB - 1 }), {
      code: "ARTIFACT_TOO_LARGE",
    });
    await assert.rejects(store.commitUpload("u5", ["a", "../b"]), { code: "ARTIFACT_INVALID" });
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    assert.equal(await store.has(sha256(Buffer.concat([a, b]))), false);
    const info = await store.commitUpload("u5", ["a", "b"], { maxBytes: 4 * MiB });
    assert.equal(info.sha256, sha256(Buffer.concat([a, b])));
    await store.deleteUpload("u5");
  });

  it("uses the digest kept while staging only for the very files committed", async () => {
    const parts = Array.from({ length: 6 }, () => randomBytes(MiB + 11));
    const names = parts.map((_, i) => `q${i}`);
    // Staged concurrently, in order of their start (as the Azure SDK does).
    await Promise.all(names.map((n, i) => store.putPart("u6", n, Readable.from([parts[i]!]))));
    const inOrder = await store.commitUpload("u6", names);
    assert.equal(inOrder.sha256, sha256(Buffer.concat(parts)));
    assert.ok((await drain((await store.get(inOrder.sha256)).stream)).equals(Buffer.concat(parts)));
    // A prefix of the staged order, then other parts; and another order altogether.
    const mixed = ["q0", "q1", "q4", "q2"];
    const mixedBytes = Buffer.concat([parts[0]!, parts[1]!, parts[4]!, parts[2]!]);
    assert.equal((await store.commitUpload("u6", mixed)).sha256, sha256(mixedBytes));
    const reversed = [...names].reverse();
    assert.equal(
      (await store.commitUpload("u6", reversed)).sha256,
      sha256(Buffer.concat([...parts].reverse())),
    );
    // q1 staged again with other bytes after it was hashed: the commit hashes the new file.
    const other = randomBytes(MiB + 11);
    await store.putPart("u6", "q1", Readable.from([other]));
    const again = await store.commitUpload("u6", names);
    const want = Buffer.concat([parts[0]!, other, ...parts.slice(2)]);
    assert.deepEqual(again, { sha256: sha256(want), size: want.length });
    assert.ok((await drain((await store.get(again.sha256)).stream)).equals(want));
    await store.deleteUpload("u6");
  });
});
