// The one place secrets are compared. The digests compared are of equal, public length (a length
// mismatch means a malformed stored value, not a secret difference), so only the contents need a
// comparison whose time does not depend on where the first differing byte is.
// `crypto.timingSafeEqual` is called through the module object so tests can observe its use.
import crypto from "node:crypto";

export function sha256(data: string): Buffer {
  return crypto.createHash("sha256").update(data, "utf8").digest();
}

export function digestsEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(a, b);
}
