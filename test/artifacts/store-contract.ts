// The blob store's contract (src/artifacts/store/types.ts), run against every backend: the local
// filesystem (store.test.ts) and an S3-compatible server (store-s3.test.ts). Each backend's own
// test adds what only it can see (file modes, keys in the bucket).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import type { BlobStore } from "../../src/artifacts/index.js";

export interface ContractTarget {
  store: BlobStore;
  /** What a backend keeps while writing (temporary files or keys): empty between calls. */
  leftovers: () => Promise<string[]>;
}

export const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

export async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `n` chunks of 64 KiB, produced as read (never one buffer). */
export function* chunks(n: number, seed: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(65536, (seed + i) % 251);
}

export function blobStoreContract(name: string, target: () => ContractTarget): void {
  describe(`the blob store contract: ${name}`, () => {
    it("stores a stream under its SHA-256 and reads it back whole or by range", async () => {
      const { store, leftovers } = target();
      const bytes = Buffer.concat([...chunks(40, 1)]);
      const info = await store.put(Readable.from(chunks(40, 1)));
      assert.deepEqual(info, { sha256: sha256(bytes), size: bytes.length });
      assert.deepEqual(await leftovers(), []);
      assert.equal(await store.has(info.sha256), true);
      const whole = await store.get(info.sha256);
      assert.deepEqual([whole.start, whole.end, whole.size], [0, bytes.length - 1, bytes.length]);
      assert.ok((await drain(whole.stream)).equals(bytes));
      const part = await store.get(info.sha256, { start: 70000, end: 70009 });
      assert.deepEqual([part.start, part.end, part.size], [70000, 70009, bytes.length]);
      assert.ok((await drain(part.stream)).equals(bytes.subarray(70000, 70010)));
      const tail = await store.get(info.sha256, { start: bytes.length - 5 });
      assert.deepEqual([tail.start, tail.end], [bytes.length - 5, bytes.length - 1]);
      assert.ok((await drain(tail.stream)).equals(bytes.subarray(-5)));
      // An end past the blob stops at its last byte.
      const past = await store.get(info.sha256, { start: bytes.length - 2, end: bytes.length + 100 });
      assert.deepEqual([past.start, past.end], [bytes.length - 2, bytes.length - 1]);
      assert.ok((await drain(past.stream)).equals(bytes.subarray(-2)));
      await assert.rejects(store.get(info.sha256, { start: bytes.length }), {
        code: "RANGE_NOT_SATISFIABLE",
      });
      await assert.rejects(store.get(info.sha256, { start: 10, end: 5 }), { code: "RANGE_NOT_SATISFIABLE" });
      // The same bytes again: one blob.
      assert.deepEqual(await store.put(Readable.from([bytes])), info);
      assert.deepEqual(await leftovers(), []);
      assert.equal(await store.delete(info.sha256), true);
      assert.equal(await store.delete(info.sha256), false);
      assert.equal(await store.has(info.sha256), false);
      await assert.rejects(store.get(info.sha256), { code: "BLOB_NOT_FOUND" });
      await assert.rejects(store.get(info.sha256, { start: 0, end: 1 }), { code: "BLOB_NOT_FOUND" });
    });

    it("stores an empty blob, of which no range can be read", async () => {
      const { store } = target();
      const info = await store.put(Readable.from([]));
      assert.deepEqual(info, { sha256: sha256(Buffer.alloc(0)), size: 0 });
      const read = await store.get(info.sha256);
      assert.deepEqual([read.start, read.end, read.size], [0, -1, 0]);
      assert.equal((await drain(read.stream)).length, 0);
      await assert.rejects(store.get(info.sha256, { start: 0 }), { code: "RANGE_NOT_SATISFIABLE" });
    });

    it("refuses a stream past maxBytes and a failing stream, leaving nothing", async () => {
      const { store, leftovers } = target();
      const refused = Buffer.concat([...chunks(10, 3)]);
      await assert.rejects(store.put(Readable.from(chunks(10, 3)), { maxBytes: 65536 * 9 }), {
        code: "ARTIFACT_TOO_LARGE",
      });
      assert.equal(await store.has(sha256(refused)), false);
      // Exactly maxBytes is accepted.
      const exact = await store.put(Readable.from(chunks(9, 3)), { maxBytes: 65536 * 9 });
      assert.equal(exact.size, 65536 * 9);
      async function* broken(): AsyncGenerator<Buffer> {
        yield await Promise.resolve(randomBytes(1000));
        throw new Error("connection reset");
      }
      await assert.rejects(store.put(Readable.from(broken())), /connection reset/);
      assert.deepEqual(await leftovers(), []);
      await store.delete(exact.sha256);
    });

    it("stages parts, reads them, and drops an upload at once", async () => {
      const { store } = target();
      await store.putPart("u1", "p1", Readable.from([Buffer.from("first")]));
      assert.deepEqual(await store.putPart("u1", "p1", Readable.from([Buffer.from("again")])), {
        sha256: sha256(Buffer.from("again")),
        size: 5,
      });
      await store.putPart("u10", "p1", Readable.from([Buffer.from("other upload")]));
      assert.equal((await drain(await store.readPart("u1", "p1"))).toString(), "again");
      await assert.rejects(store.readPart("u1", "p2"), { code: "BLOB_NOT_FOUND" });
      await assert.rejects(store.putPart("u1", "p3", Readable.from(chunks(3, 0)), { maxBytes: 65536 }), {
        code: "ARTIFACT_TOO_LARGE",
      });
      await assert.rejects(store.readPart("u1", "p3"), { code: "BLOB_NOT_FOUND" });
      await assert.rejects(store.putPart("../x", "p", Readable.from([])), { code: "ARTIFACT_INVALID" });
      await assert.rejects(store.putPart("u1", "a/b", Readable.from([])), { code: "ARTIFACT_INVALID" });
      await store.deleteUpload("u1");
      await store.deleteUpload("u1");
      await assert.rejects(store.readPart("u1", "p1"), { code: "BLOB_NOT_FOUND" });
      // Only that upload: u10 shares its first letters, not its parts.
      assert.equal((await drain(await store.readPart("u10", "p1"))).toString(), "other upload");
      await store.deleteUpload("u10");
      await assert.rejects(store.has("../../etc/passwd"), { code: "ARTIFACT_INVALID" });
      await assert.rejects(store.get("A".repeat(64)), { code: "ARTIFACT_INVALID" });
    });

    it("commits staged parts, in the order named, into one blob as put would make it", async () => {
      const { store, leftovers } = target();
      const a = Buffer.concat([...chunks(3, 7)]);
      const b = randomBytes(100_001);
      await store.putPart("c1", "a", Readable.from([a]));
      await store.putPart("c1", "b", Readable.from([b]));
      const whole = Buffer.concat([b, a, b]);
      const info = await store.commitUpload("c1", ["b", "a", "b"]);
      assert.deepEqual(info, { sha256: sha256(whole), size: whole.length });
      assert.ok((await drain((await store.get(info.sha256)).stream)).equals(whole));
      // The parts stay staged until the upload is dropped; committing again is the same blob.
      assert.deepEqual(await store.commitUpload("c1", ["b", "a", "b"]), info);
      await assert.rejects(store.commitUpload("c1", ["a", "nope"]), { code: "BLOB_NOT_FOUND" });
      await assert.rejects(store.commitUpload("c1", ["a", "b"], { maxBytes: a.length }), {
        code: "ARTIFACT_TOO_LARGE",
      });
      assert.equal(await store.has(sha256(Buffer.concat([a, b]))), false);
      assert.deepEqual(await leftovers(), []);
      await store.deleteUpload("c1");
      await assert.rejects(store.commitUpload("c1", ["a"]), { code: "BLOB_NOT_FOUND" });
      await store.delete(info.sha256);
    });
  });
}
