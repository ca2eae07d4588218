// The server started with the S3 blob store setting (AIRLOCK_BLOB_STORE=s3 and AIRLOCK_S3_*, as an
// operator sets them) against a real S3-compatible server (s3rver): the real `@actions/artifact`
// client uploads through it and the blob lands in the bucket under <prefix>artifacts/sha256/, with
// no temporary or staged key left and nothing under the data folder; it downloads back
// byte-identical. A bucket that cannot be reached stops start-up with one line.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deriveKeys, mintRuntimeToken, openServiceKey, type ServiceKeys } from "../../src/artifacts/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { startService, type Service } from "../../src/service/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { S3RVER_SECRET, startS3, type TestS3 } from "../helpers/s3.js";
import { runningAttempt, toolkit, type AttemptHost } from "./helpers.js";

let s3: TestS3;
let db: TestDatabase;
let dataDir: string;
let work: string;
let service: Service;
let keys: ServiceKeys;

const s3Env = (bucket: string): NodeJS.ProcessEnv => ({
  AIRLOCK_BLOB_STORE: "s3",
  AIRLOCK_S3_ENDPOINT: s3.endpoint,
  AIRLOCK_S3_BUCKET: bucket,
  AIRLOCK_S3_PREFIX: "ci/airlock",
  AIRLOCK_S3_ACCESS_KEY_ID: "S3RVER",
  AIRLOCK_S3_SECRET_ACCESS_KEY: S3RVER_SECRET,
});

before(async () => {
  s3 = await startS3();
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "airlock-s3-service-"));
  work = await mkdtemp(join(tmpdir(), "airlock-s3-ws-"));
  service = await startService({
    env: {
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
      ...s3Env(s3.bucket),
    },
    overrides: { listenPort: 0 },
    cliConfigPath: null,
  });
  keys = deriveKeys(await openServiceKey(join(dataDir, "artifact-service.key")));
});
after(async () => {
  await service?.stop();
  await db?.drop();
  await s3?.close();
  for (const d of [dataDir, work]) if (d) await rm(d, { recursive: true, force: true });
});

describe("the server with its blobs in an S3-compatible bucket", () => {
  it("stores an artifact the toolkit uploads in the bucket and serves it back", async () => {
    const host: AttemptHost = {
      db: { pool: db.pool },
      svc: { mintRuntimeToken: (jobId, attempt) => mintRuntimeToken(db.pool, keys, jobId, attempt) },
    };
    const a = await runningAttempt(host);
    const src = join(work, "src");
    await mkdir(src, { recursive: true });
    // Random bytes do not compress: over one 8 MiB block.
    const big = randomBytes(9 * 1024 * 1024 + 7);
    await writeFile(join(src, "big.bin"), big);
    const up = await toolkit(service, a, work, ["upload", "dist", src, join(src, "big.bin")]);
    assert.equal(up.ok, true, up.error);
    const digest = String(up.out!.digest);
    assert.deepEqual(await s3.keys("ci/airlock/"), [
      `ci/airlock/artifacts/sha256/${digest.slice(0, 2)}/${digest}`,
    ]);
    assert.equal(
      (await readdir(dataDir)).some((f) => f === "artifacts" || f === "caches"),
      false,
      "no blob folder in the data folder",
    );
    const b = await runningAttempt(host, { runId: a.runId });
    const dest = join(work, "dest");
    const down = await toolkit(service, b, work, ["download", String(up.out!.id), dest, `sha256:${digest}`]);
    assert.equal(down.ok, true, down.error);
    assert.equal(down.out!.digestMismatch, false);
    assert.ok((await readFile(join(dest, "big.bin"))).equals(big));
  });

  it("refuses to start when the bucket cannot be reached, in one line", async () => {
    const other = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), "airlock-s3-nobucket-"));
    try {
      const err = await startService({
        env: {
          AIRLOCK_DATABASE_URL: other.url,
          AIRLOCK_DATA_DIR: dir,
          AIRLOCK_LOG_LEVEL: "silent",
          ...s3Env("no-such-bucket"),
        },
        overrides: { listenPort: 0 },
        cliConfigPath: null,
      }).then(
        (s) => s.stop().then(() => assert.fail("started")),
        (e: unknown) => e,
      );
      assert.ok(isAirlockError(err, "BLOB_STORE_UNAVAILABLE"), String(err));
      assert.equal(
        err.message,
        "blob store s3://no-such-bucket: reach the bucket failed (NoSuchBucket, HTTP 404)",
      );
    } finally {
      await other.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
