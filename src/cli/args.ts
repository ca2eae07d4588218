// Parsing of repeated `k=v` options, and reading the files options name (dotenv-style files:
// env-files.ts).
import { readFile } from "node:fs/promises";
import { AirlockError, ErrorCode } from "../errors/index.js";

/** The text of a file an option names; missing or unreadable, one USAGE line naming option and file. */
export async function readOptionFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "a folder, not a file"
            : `cannot be read (${code ?? String(err)})`;
    throw new AirlockError(ErrorCode.USAGE, `${flag} ${path}: ${why}`, { cause: err });
  }
}

/** A JSON object from a file an option names: missing, unreadable or not a JSON object is one USAGE line. */
export async function readOptionJson(path: string, flag: string): Promise<Record<string, unknown>> {
  const text = await readOptionFile(path, flag);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AirlockError(ErrorCode.USAGE, `${flag} ${path}: not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new AirlockError(ErrorCode.USAGE, `${flag} ${path}: expected a JSON object`);
  return data as Record<string, unknown>;
}

export function parseKeyValues(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new AirlockError(ErrorCode.USAGE, `${flag} expects name=value, got '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
