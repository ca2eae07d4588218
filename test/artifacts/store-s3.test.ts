// The S3 blob store against a real S3-compatible server (s3rver, in-process): the contract every
// backend meets (store-contract.ts), plus what only the bucket shows: blobs under
// <prefix>sha256/ab/, no temporary key after a put, a refused multipart upload aborted and leaving no
// object, and a failing server as one line (BLOB_STORE_UNAVAILABLE) that names no credential.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { S3Client } from "@aws-sdk/client-s3";
import { S3BlobStore, s3Client } from "../../src/artifacts/index.js";
import { Redacted } from "../../src/secrets/index.js";
import { startS3, type TestS3 } from "../helpers/s3.js";
import { blobStoreContract, chunks, drain, sha256 } from "./store-contract.js";

let s3: TestS3;
let store: S3BlobStore;
const MiB = 1024 * 1024;

before(async () => {
  s3 = await startS3();
  store = new S3BlobStore({ client: s3.client, bucket: s3.bucket, prefix: "contract/" });
});
after(async () => {
  await s3?.close();
});

blobStoreContract("S3-compatible server (s3rver)", () => ({
  store,
  leftovers: () => s3.keys("contract/tmp/"),
}));

/** A store of its own prefix whose client records the name of every command it sends. */
function recorded(prefix: string, o: { partBytes?: number; copyLimitBytes?: number } = {}) {
  const client = s3Client(s3.settings());
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize" },
  );
  return { store: new S3BlobStore({ client, bucket: s3.bucket, prefix, ...o }), sent, client };
}

describe("the S3 blob store", () => {
  it("puts a blob in parts through a temporary key, then under <prefix>sha256/ab/ only", async () => {
    const { store: st, sent, client } = recorded("big/", { partBytes: 5 * MiB });
    const bytes = Buffer.concat([...chunks(12 * 16 + 3, 5)]); // 12 MiB + 192 KiB: three parts
    const info = await st.put(Readable.from(chunks(12 * 16 + 3, 5)));
    assert.deepEqual(info, { sha256: sha256(bytes), size: bytes.length });
    assert.deepEqual(await s3.keys("big/"), [`big/sha256/${info.sha256.slice(0, 2)}/${info.sha256}`]);
    assert.equal(st.blobKey(info.sha256), `big/sha256/${info.sha256.slice(0, 2)}/${info.sha256}`);
    assert.equal(sent.filter((c) => c === "UploadPartCommand").length, 3);
    assert.ok(sent.includes("CopyObjectCommand"));
    // A range across the first part boundary.
    const r = await st.get(info.sha256, { start: 5 * MiB - 3, end: 5 * MiB + 2 });
    assert.ok((await drain(r.stream)).equals(bytes.subarray(5 * MiB - 3, 5 * MiB + 3)));
    // The same bytes again: no second copy, the blob is there.
    sent.length = 0;
    assert.deepEqual(await st.put(Readable.from([bytes])), info);
    assert.equal(sent.includes("CopyObjectCommand"), false);
    assert.deepEqual(await s3.keys("big/"), [st.blobKey(info.sha256)]);
    client.destroy();
  });

  it("aborts a multipart upload past maxBytes and keeps no object", async () => {
    const { store: st, sent, client } = recorded("refused/", { partBytes: 5 * MiB });
    await assert.rejects(st.put(Readable.from(chunks(12 * 16, 1)), { maxBytes: 11 * MiB }), {
      code: "ARTIFACT_TOO_LARGE",
    });
    // Parts were sent before the limit was reached; the upload was aborted, then the key deleted.
    assert.ok(sent.includes("UploadPartCommand"));
    assert.ok(sent.includes("AbortMultipartUploadCommand"));
    assert.equal(sent.includes("CompleteMultipartUploadCommand"), false);
    assert.deepEqual(await s3.keys("refused/"), []);
    // A staged part past maxBytes: nothing at its key either.
    await assert.rejects(st.putPart("u", "p", Readable.from(chunks(12 * 16, 1)), { maxBytes: 11 * MiB }), {
      code: "ARTIFACT_TOO_LARGE",
    });
    assert.deepEqual(await s3.keys("refused/"), []);
    client.destroy();
  });

  it("stages parts as uploads/<upload>/<part> and commits them by streaming", async () => {
    const { store: st, client } = recorded("staged/");
    await st.putPart("up-1", "AAAA", Readable.from([Buffer.from("hello ")]));
    await st.putPart("up-1", "BBBB", Readable.from([Buffer.from("world")]));
    assert.deepEqual(await s3.keys("staged/"), ["staged/uploads/up-1/AAAA", "staged/uploads/up-1/BBBB"]);
    const info = await st.commitUpload("up-1", ["AAAA", "BBBB"]);
    assert.equal(info.sha256, sha256(Buffer.from("hello world")));
    await st.deleteUpload("up-1");
    assert.deepEqual(await s3.keys("staged/"), [st.blobKey(info.sha256)]);
    client.destroy();
  });

  it("reports a server that lacks a copy of more than copyLimitBytes, leaving nothing", async () => {
    // s3rver does not implement UploadPartCopy (used past 5 GiB on AWS): one line, no blob.
    const { store: st, sent, client } = recorded("copy/", { copyLimitBytes: 1000 });
    const err = await st.put(Readable.from([Buffer.alloc(2000, 1)])).catch((e: unknown) => e);
    assert.equal((err as { code?: string }).code, "BLOB_STORE_UNAVAILABLE");
    assert.ok(sent.includes("UploadPartCopyCommand"));
    assert.deepEqual(await s3.keys("copy/"), []);
    client.destroy();
  });

  it("turns refused credentials and an unreachable server into one line without the secret", async () => {
    const secret = "wrong-secret-Zq8vX3";
    const bad = new S3Client({
      ...{ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true },
      credentials: { accessKeyId: "NOBODY", secretAccessKey: new Redacted(secret).reveal() },
    });
    const refused = new S3BlobStore({ client: bad, bucket: s3.bucket, prefix: "" });
    for (const call of [
      () => refused.put(Readable.from([Buffer.from("x")])),
      () => refused.has("0".repeat(64)),
      () => refused.get("0".repeat(64)),
      () => refused.deleteUpload("u"),
    ]) {
      const err = await call().catch((e: unknown) => e);
      const e = err as { code?: string; message: string; retryable?: boolean };
      assert.equal(e.code, "BLOB_STORE_UNAVAILABLE", e.message);
      assert.equal(e.retryable, true);
      assert.doesNotMatch(e.message, /\n/);
      assert.ok(!e.message.includes(secret) && !JSON.stringify(err).includes(secret));
      assert.match(e.message, new RegExp(`^blob store s3://${s3.bucket}: .* failed \\(.*HTTP 403\\)$`));
    }
    bad.destroy();
    const gone = s3Client({ ...s3.settings(), endpoint: "http://127.0.0.1:9" });
    const unreachable = new S3BlobStore({ client: gone, bucket: s3.bucket, prefix: "" });
    await assert.rejects(unreachable.has("0".repeat(64)), (err: Error & { code?: string }) => {
      assert.equal(err.code, "BLOB_STORE_UNAVAILABLE");
      assert.match(err.message, /^blob store s3:\/\/airlock-test: look up a blob failed \(ECONNREFUSED\)$/);
      return true;
    });
    gone.destroy();
  });
});
