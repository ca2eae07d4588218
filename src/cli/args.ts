// Parsing of repeated `k=v` options and of secret files (dotenv-style), and reading the files
// options name.
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

/**
 * `NAME=value` per line; `#` comments and blank lines ignored; values may be single-quoted
 * (literal) or double-quoted (with \n, \t, \\ and \" escapes, so multi-line secrets fit on a line).
 */
export function parseSecretFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!m?.[1]) throw new AirlockError(ErrorCode.USAGE, `${file}:${i + 1}: expected NAME=value`);
    let value = (m[2] ?? "").trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value
        .slice(1, -1)
        .replace(/\\([nt"\\])/g, (_, c: string) => ({ n: "\n", t: "\t", '"': '"', "\\": "\\" })[c] ?? c);
    }
    out[m[1]] = value;
  });
  return out;
}
