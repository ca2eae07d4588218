// The names a blob store accepts, the same for every backend: a digest is 64 lower-case hex
// digits; an upload or part name is [A-Za-z0-9_-]{1,128}, so it can never climb out of its folder
// or key prefix. (local.ts keeps its own copy of these two checks until it imports them from here.)
import { AirlockError, ErrorCode } from "../../errors/index.js";

const DIGEST = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

export function checkDigest(sha256: string): void {
  if (!DIGEST.test(sha256))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "a blob digest is 64 hex digits");
}

export function checkName(what: string, name: string): void {
  if (!NAME.test(name)) throw new AirlockError(ErrorCode.ARTIFACT_INVALID, `bad ${what} name`);
}
