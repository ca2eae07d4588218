// Files the CLI writes where the user said (`artifacts download -o/--extract`, `artifacts
// provenance -o`): a path mistake — a missing folder, a file already there, no permission — is one
// USAGE line naming the option and the path, never Node's error with a stack trace.
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

/** Why writing `target` failed, in words; undefined when the error is not a path mistake. */
function reasonOf(err: unknown): string | undefined {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case "ENOENT":
      return "its folder does not exist";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "EEXIST":
      return "it exists already";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a folder";
    case "EROFS":
      return "read-only filesystem";
    default:
      return undefined;
  }
}

/** The error to throw for a failed write of `target` named by `flag`: a USAGE line, or `err` as is. */
export function outputError(err: unknown, target: string, flag: string): unknown {
  const why = reasonOf(err);
  return why === undefined
    ? err
    : new AirlockError(ErrorCode.USAGE, `${flag} ${target}: cannot write there (${why})`, { cause: err });
}

/** Writes a new file (never over an existing one); path mistakes as one USAGE line. */
export async function writeNewFile(target: string, data: string | Buffer, flag: string): Promise<void> {
  try {
    await writeFile(target, data, { flag: "wx" });
  } catch (err) {
    throw outputError(err, target, flag);
  }
}

/**
 * Before a download: the folder that will hold `target` exists and is a folder, and (when
 * `mustBeNew`) `target` is not there yet, else is not a folder — so a mistake is said before any
 * byte is fetched.
 */
export async function checkOutputPath(target: string, flag: string, mustBeNew: boolean): Promise<void> {
  const folder = path.dirname(target);
  const info = await stat(folder).catch((err: unknown) => {
    throw outputError(err, target, flag);
  });
  if (!info.isDirectory()) throw outputError({ code: "ENOTDIR" }, target, flag);
  const existing = await stat(target).catch(() => undefined);
  if (existing === undefined) return;
  if (mustBeNew) throw outputError({ code: "EEXIST" }, target, flag);
  if (existing.isDirectory()) throw outputError({ code: "EISDIR" }, target, flag);
}
