// Environment names as jobs and administrators give them: the rules are the secret store's (up to
// 255 characters, no control characters or '/', no surrounding white space, case-insensitive,
// stored lower-case), refused here with ENVIRONMENT_INVALID.
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import { checkEnvironment as secretsCheck } from "../secrets/index.js";

/** A name from user or job input, bounded and quoted so control characters show. */
export function shownName(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** The canonical (lower-case) name, or ENVIRONMENT_INVALID in one line. */
export function checkEnvironment(name: string): string {
  try {
    return secretsCheck(name);
  } catch (err) {
    if (!isAirlockError(err, ErrorCode.SECRET_INVALID)) throw err;
    throw new AirlockError(ErrorCode.ENVIRONMENT_INVALID, err.message, { details: err.details });
  }
}
