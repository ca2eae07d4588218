// The `blobStore` section of the server's configuration: local by default, s3 from the file or
// AIRLOCK_BLOB_STORE / AIRLOCK_S3_* (which win), the secret access key from a 0600 file or the
// environment (never inline), and one line per bad setting, none of them showing the secret.
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { loadServerConfig } from "../../src/server/index.js";

let dir: string;
let secretFile: string;
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-blob-config-"));
  secretFile = join(dir, "s3-secret");
  await writeFile(secretFile, ` ${SECRET}\n`, { mode: 0o600 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(blobStore: unknown): Promise<string> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, JSON.stringify({ blobStore }));
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAirlockError(err, "CONFIG_INVALID"), String(err));
    assert.ok(!err.message.includes(SECRET));
    return err.details as string[];
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("blobStore config", () => {
  it("is local unless told otherwise", () => {
    assert.deepEqual(loadServerConfig({ env: {} }).blobStore, { kind: "local" });
  });

  it("compiles s3 settings from the file, the secret trimmed from its file, and keeps it out of JSON", async () => {
    const file = await fileWith({
      kind: "s3",
      endpoint: "https://minio.example:9000/",
      bucket: "ci-blobs",
      prefix: "airlock",
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKeyFile: secretFile,
    });
    const c = loadServerConfig({ file, env: {} }).blobStore;
    assert.equal(c.kind, "s3");
    if (c.kind !== "s3") return;
    assert.deepEqual(
      { ...c, credentials: undefined },
      {
        kind: "s3",
        endpoint: "https://minio.example:9000",
        region: "us-east-1",
        bucket: "ci-blobs",
        prefix: "airlock/",
        forcePathStyle: true,
        credentials: undefined,
      },
    );
    assert.equal(c.credentials?.accessKeyId, "AKIDEXAMPLE");
    assert.equal(c.credentials?.secretAccessKey.reveal(), SECRET);
    assert.ok(!JSON.stringify(c).includes(SECRET));
  });

  it("takes the environment over the file, and the AWS SDK's own credentials when none are given", async () => {
    const file = await fileWith({ kind: "s3", bucket: "from-file", region: "eu-west-1" });
    const c = loadServerConfig({
      file,
      env: { AIRLOCK_S3_BUCKET: "from-env", AIRLOCK_S3_FORCE_PATH_STYLE: "true" },
    }).blobStore;
    assert.deepEqual(c, {
      kind: "s3",
      region: "eu-west-1",
      bucket: "from-env",
      prefix: "",
      forcePathStyle: true,
    });
    const e = loadServerConfig({
      env: {
        AIRLOCK_BLOB_STORE: "s3",
        AIRLOCK_S3_BUCKET: "b-1",
        AIRLOCK_S3_ACCESS_KEY_ID: "AKID",
        AIRLOCK_S3_SECRET_ACCESS_KEY: SECRET,
      },
    }).blobStore;
    assert.equal(e.kind === "s3" && e.credentials?.secretAccessKey.reveal(), SECRET);
    assert.equal(e.kind === "s3" && e.forcePathStyle, false);
  });

  it("refuses bad settings, one line each naming the setting", async () => {
    const file = await fileWith({ kind: "s3", secretAccessKey: SECRET, bucket: "x-y" });
    assert.deepEqual(
      problems(() => loadServerConfig({ file, env: {} })),
      [
        `${file}: blobStore.secretAccessKey: secrets are not written in the configuration: put it in a file readable only by the server and give blobStore.secretAccessKeyFile`,
      ],
    );
    const noBucket = await fileWith({ kind: "s3", endpoint: "ftp://x", prefix: "/abs" });
    assert.deepEqual(
      problems(() => loadServerConfig({ file: noBucket, env: {} })),
      [
        `${noBucket}: blobStore.endpoint: expected an http(s):// URL of the server, without a path`,
        `${noBucket}: blobStore.prefix: expected key segments of A-Za-z0-9 . _ - separated by / (no leading /)`,
      ],
    );
    const missing = await fileWith({ kind: "s3" });
    assert.deepEqual(
      problems(() => loadServerConfig({ file: missing, env: {} })),
      [`${missing}: blobStore.bucket: required with kind s3 (or AIRLOCK_S3_BUCKET)`],
    );
    const local = await fileWith({ bucket: "x-y" });
    assert.deepEqual(
      problems(() => loadServerConfig({ file: local, env: {} })),
      [`${local}: blobStore.bucket: only with blobStore.kind s3`],
    );
    assert.deepEqual(
      problems(() => loadServerConfig({ env: { AIRLOCK_BLOB_STORE: "gcs" } })),
      ["AIRLOCK_BLOB_STORE: expected local or s3"],
    );
    assert.deepEqual(
      problems(() =>
        loadServerConfig({
          env: { AIRLOCK_BLOB_STORE: "s3", AIRLOCK_S3_BUCKET: "b-1", AIRLOCK_S3_ACCESS_KEY_ID: "A" },
        }),
      ),
      [
        "blobStore.accessKeyId: give the access key id with its secret (secretAccessKeyFile or AIRLOCK_S3_SECRET_ACCESS_KEY), or neither for the AWS SDK's standard credentials",
      ],
    );
    await chmod(secretFile, 0o644);
    const open = await fileWith({
      kind: "s3",
      bucket: "b-1",
      accessKeyId: "A",
      secretAccessKeyFile: secretFile,
    });
    assert.deepEqual(
      problems(() => loadServerConfig({ file: open, env: {} })),
      [
        `${open}: blobStore.secretAccessKeyFile: ${secretFile} is open to other users: chmod 600 ${secretFile}`,
      ],
    );
    await chmod(secretFile, 0o600);
  });
});
