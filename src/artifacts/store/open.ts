// Which blob store the server uses, from its configuration (src/server/blob-store-config.ts):
// `local` (default) keeps blobs under <dataDir>/<area>; `s3` keeps them in an S3-compatible bucket
// under <prefix><area>/. The artifact and cache services each get their own area of the same kind.
// With no credentials configured the SDK's standard chain is used (AWS_* variables, profiles,
// instance or container roles).
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import type { Redacted } from "../../secrets/index.js";
import { LocalBlobStore } from "./local.js";
import { S3BlobStore } from "./s3.js";
import type { BlobStore } from "./types.js";

export interface S3StoreSettings {
  kind: "s3";
  /** The server's URL; absent: AWS S3 of the region. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** "" or ending in "/". */
  prefix: string;
  /** Path-style URLs (http://host/bucket/key), as most S3-compatible servers want. */
  forcePathStyle: boolean;
  /** Absent: the SDK's standard credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: Redacted };
}

export type BlobStoreSettings = { kind: "local" } | S3StoreSettings;

export interface OpenedBlobStore {
  store: BlobStore;
  /** Reaches the backend once (BLOB_STORE_UNAVAILABLE when it cannot): at start-up. */
  check(): Promise<void>;
  /** Closes the backend's connections (idempotent). */
  close(): void;
}

export function s3Client(s: S3StoreSettings): S3Client {
  return new S3Client({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    ...(s.credentials
      ? {
          credentials: {
            accessKeyId: s.credentials.accessKeyId,
            secretAccessKey: s.credentials.secretAccessKey.reveal(),
          },
        }
      : {}),
    // Checksums only where S3 requires them: many S3-compatible servers refuse the newer ones.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export function openBlobStore(s: BlobStoreSettings, dataDir: string, area: string): OpenedBlobStore {
  if (s.kind === "local")
    return {
      store: new LocalBlobStore(join(dataDir, area)),
      check: () => Promise.resolve(),
      close: () => undefined,
    };
  const client = s3Client(s);
  const store = new S3BlobStore({ client, bucket: s.bucket, prefix: `${s.prefix}${area}/` });
  return { store, check: () => store.check(), close: () => client.destroy() };
}
