// A real S3-compatible server for the tests: s3rver (in-process, a random loopback port, its
// objects in a temporary folder), with one bucket, and the settings and client that reach it with
// its fixed credentials (S3RVER / S3RVER) and path-style URLs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { s3Client, type S3StoreSettings } from "../../src/artifacts/index.js";
import { Redacted } from "../../src/secrets/index.js";

export const S3RVER_SECRET = "S3RVER";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Settings as the server's configuration compiles them (prefix "", or the one given). */
  settings(prefix?: string): S3StoreSettings;
  /** A client of the bucket, for the tests' own look at what is stored. */
  client: S3Client;
  /** Every key under `prefix`. */
  keys(prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startS3(bucket = "airlock-test"): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const settings = (prefix = ""): S3StoreSettings => ({
    kind: "s3",
    endpoint,
    region: "us-east-1",
    bucket,
    prefix,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: new Redacted(S3RVER_SECRET) },
  });
  const client = s3Client(settings());
  return {
    endpoint,
    bucket,
    settings,
    client,
    keys: async (prefix = "") => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    close: async () => {
      client.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
