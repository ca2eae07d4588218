// A container's variables for podman: ALL of them in a private env-file (`--env-file=<path>`), never
// in podman's argv (values may be secrets, and every user of the host reads argv in `ps`) and never
// in podman's own environment (podman, Go's runtime and glibc obey many names there). The file is
// written 0600 in a fresh 0700 folder under a root-owned one, and removed once podman has read it.
//
// podman's env-file format (pkg/env ParseFile, podman 4.x): one `NAME=value` per line, the value
// taken verbatim (`=`, quotes, spaces, `#`, unicode kept); lines are read with Go's bufio.Scanner,
// so a value cannot hold a line feed, a carriage return at its end is dropped, and a line longer
// than 65535 bytes fails the whole file. Such values are refused here (CONTAINER_ENV_UNSUPPORTED),
// never cut or altered.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";

/** Longest line (NAME=value, UTF-8 bytes) podman's env-file reader takes. */
export const MAX_ENV_LINE = 65535;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The env-file text of `vars`; throws CONTAINER_OPTION_REFUSED / CONTAINER_ENV_UNSUPPORTED. */
export function envFileText(vars: Readonly<Record<string, string>>): string {
  let text = "";
  for (const [k, v] of Object.entries(vars)) {
    if (!NAME.test(k)) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        `container variable name "${k.slice(0, 60)}" is not valid`,
      );
    }
    if (/[\r\n\0]/.test(v)) {
      throw new AirlockError(
        ErrorCode.CONTAINER_ENV_UNSUPPORTED,
        `container variable ${k.slice(0, 60)} holds a line break: podman cannot pass it to a container`,
      );
    }
    const line = `${k}=${v}`;
    if (Buffer.byteLength(line) > MAX_ENV_LINE) {
      throw new AirlockError(
        ErrorCode.CONTAINER_ENV_UNSUPPORTED,
        `container variable ${k.slice(0, 60)} is longer than podman passes (${MAX_ENV_LINE} bytes)`,
      );
    }
    text += `${line}\n`;
  }
  return text;
}

export interface EnvFile {
  /** `--env-file=<path>` (or nothing when there are no variables). */
  args: string[];
  /** Removes the file and its folder (idempotent). */
  remove(): void;
}

/**
 * Writes `vars` to a new private env-file inside `dir` (a folder only root can write). Synchronous:
 * a few small writes, and callers that must return a handle at once (Docker-action runs) use it.
 */
export function writeEnvFile(dir: string, vars: Readonly<Record<string, string>>): EnvFile {
  const text = envFileText(vars);
  if (text === "") return { args: [], remove: () => undefined };
  const folder = mkdtempSync(path.join(dir, "env-"));
  const remove = (): void => rmSync(folder, { recursive: true, force: true });
  try {
    const file = path.join(folder, "env");
    writeFileSync(file, text, { mode: 0o600, flag: "wx" });
    return { args: [`--env-file=${file}`], remove };
  } catch (e) {
    remove();
    throw e;
  }
}
