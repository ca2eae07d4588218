// The local blob store on a real filesystem: content addressing, ranges, staged parts, and that a
// refused or failed write leaves nothing behind (no blob, no temporary file).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { LocalBlobStore, openServiceKey } from "../../src/artifacts/index.js";

let dir: string;
let store: LocalBlobStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-blobs-"));
  store = new LocalBlobStore(dir);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
/** A stream of `n` chunks of 64 KiB, produced as read (never one buffer). */
function* chunks(n: number, seed: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(65536, (seed + i) % 251);
}

describe("the local blob store", () => {
  it("stores a stream under its SHA-256 and reads it back whole or by range", async () => {
    const bytes = Buffer.concat([...chunks(40, 1)]);
    const info = await store.put(Readable.from(chunks(40, 1)));
    assert.deepEqual(info, { sha256: sha256(bytes), size: bytes.length });
    assert.equal((await stat(join(dir, "sha256", info.sha256.slice(0, 2), info.sha256))).mode & 0o777, 0o600);
    assert.equal(await store.has(info.sha256), true);
    assert.ok((await drain((await store.get(info.sha256)).stream)).equals(bytes));
    const part = await store.get(info.sha256, { start: 70000, end: 70009 });
    assert.deepEqual([part.start, part.end, part.size], [70000, 70009, bytes.length]);
    assert.ok((await drain(part.stream)).equals(bytes.subarray(70000, 70010)));
    const tail = await store.get(info.sha256, { start: bytes.length - 5 });
    assert.ok((await drain(tail.stream)).equals(bytes.subarray(-5)));
    await assert.rejects(store.get(info.sha256, { start: bytes.length }), { code: "RANGE_NOT_SATISFIABLE" });
    // The same bytes again: one blob.
    assert.deepEqual(await store.put(Readable.from([bytes])), info);
    assert.equal(await store.delete(info.sha256), true);
    assert.equal(await store.delete(info.sha256), false);
    await assert.rejects(store.get(info.sha256), { code: "BLOB_NOT_FOUND" });
  });

  it("stores an empty blob", async () => {
    const info = await store.put(Readable.from([]));
    assert.equal(info.size, 0);
    assert.equal((await drain((await store.get(info.sha256)).stream)).length, 0);
  });

  it("refuses a stream past maxBytes and a failing stream, leaving nothing", async () => {
    await assert.rejects(store.put(Readable.from(chunks(10, 3)), { maxBytes: 65536 * 9 }), {
      code: "ARTIFACT_TOO_LARGE",
    });
    async function* broken(): AsyncGenerator<Buffer> {
      yield await Promise.resolve(randomBytes(1000));
      throw new Error("connection reset");
    }
    await assert.rejects(store.put(Readable.from(broken())), /connection reset/);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  it("stages parts, reads them, and drops an upload at once", async () => {
    await store.putPart("u1", "p1", Readable.from([Buffer.from("first")]));
    await store.putPart("u1", "p1", Readable.from([Buffer.from("again")]));
    assert.equal((await drain(await store.readPart("u1", "p1"))).toString(), "again");
    await assert.rejects(store.readPart("u1", "p2"), { code: "BLOB_NOT_FOUND" });
    await assert.rejects(store.putPart("../x", "p", Readable.from([])), { code: "ARTIFACT_INVALID" });
    await store.deleteUpload("u1");
    await assert.rejects(store.readPart("u1", "p1"), { code: "BLOB_NOT_FOUND" });
    await assert.rejects(store.has("../../etc/passwd"), { code: "ARTIFACT_INVALID" });
  });

  it("makes the service key once, 0600, and reads the same one after", async () => {
    const path = join(dir, "keys", "artifact-service.key");
    const key = await openServiceKey(path);
    assert.equal(key.length, 32);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.ok((await openServiceKey(path)).equals(key));
  });
});
