// Public face of the blob store: the interface every backend implements, the local and S3 backends,
// and the choice between them from the server's configuration.
export { LocalBlobStore } from "./local.js";
export { S3BlobStore, type S3BlobStoreOptions } from "./s3.js";
export {
  openBlobStore,
  s3Client,
  type BlobStoreSettings,
  type OpenedBlobStore,
  type S3StoreSettings,
} from "./open.js";
export type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions, Source } from "./types.js";
