// Public face of the blob store: the interface every backend implements and the local backend.
export { LocalBlobStore } from "./local.js";
export type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions, Source } from "./types.js";
