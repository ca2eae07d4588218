// CopyObject's source, and a server-side copy of an object past CopyObject's limit (5 GiB on AWS
// S3): a multipart upload whose parts are UploadPartCopy ranges of the source, so no byte passes
// through Airlock; aborted when a part fails, leaving no destination object. s3rver does not
// implement UploadPartCopy: the tests see this path called and refused, never succeed
// (docs/integrity.md).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";

/** Bytes per copied part: S3 allows 5 MiB to 5 GiB, and at most 10,000 parts. */
const COPY_PART = 1024 ** 3;

/** CopySource: "<bucket>/<key>", the key URL-encoded but for its slashes. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}`;
}

export async function copyLarge(
  client: S3Client,
  bucket: string,
  from: string,
  to: string,
  size: number,
): Promise<void> {
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
  const uploadId = created.UploadId;
  try {
    const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
    for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
      const end = Math.min(start + COPY_PART, size) - 1;
      const r = await client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: to,
          UploadId: uploadId,
          PartNumber: n,
          CopySource: copySource(bucket, from),
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      parts.push({ ETag: r.CopyPartResult?.ETag, PartNumber: n });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: to,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}
