// The local blob store on a real filesystem: the contract every backend meets (store-contract.ts),
// plus what only a filesystem shows: blob files are 0600, and a refused or failed write leaves no
// temporary file; and the artifact service's key file.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { LocalBlobStore, openServiceKey } from "../../src/artifacts/index.js";
import { blobStoreContract, chunks } from "./store-contract.js";

let dir: string;
let store: LocalBlobStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-blobs-"));
  store = new LocalBlobStore(dir);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

blobStoreContract("local filesystem", () => ({
  store,
  leftovers: () => readdir(join(dir, "tmp")).catch(() => []),
}));

describe("the local blob store", () => {
  it("writes a blob as a file of mode 0600 under sha256/ab/", async () => {
    const info = await store.put(Readable.from(chunks(2, 1)));
    assert.equal((await stat(join(dir, "sha256", info.sha256.slice(0, 2), info.sha256))).mode & 0o777, 0o600);
  });

  it("makes the service key once, 0600, and reads the same one after", async () => {
    const path = join(dir, "keys", "artifact-service.key");
    const key = await openServiceKey(path);
    assert.equal(key.length, 32);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.ok((await openServiceKey(path)).equals(key));
  });
});
