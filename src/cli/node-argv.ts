// Node.js reads `--env-file <file>` (and `--env-file=<file>`) as its own option even when it
// follows the script's name (nodejs/node#54232, still so in Node 20-26): it reads the file before
// any of airlock's code runs, exits when it is missing, and applies a NODE_OPTIONS line in it.
// The `airlock` command (bin/airlock, the package's bin) starts Node with `--` before the script,
// which stops that scan; `node bin/airlock.js run --env-file x` cannot be protected, so it is told.
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";

const realOr = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/**
 * The `--env-file` values Node saw among the script's own arguments, given the process's command
 * line (/proc/self/cmdline) and the script's path: none when a `--` came before them.
 */
export function envFilesNodeRead(cmdline: readonly string[], script: string): string[] {
  const scriptReal = realOr(script);
  const at = cmdline.findIndex((a, i) => i > 0 && (a === "--" || realOr(a) === scriptReal));
  if (at < 0 || cmdline[at] === "--") return [];
  const files: string[] = [];
  for (let i = at + 1; i < cmdline.length; i++) {
    const a = cmdline[i] ?? "";
    if (a === "--") break;
    const m = /^--env-file(?:-if-exists)?(=.*)?$/.exec(a);
    if (!m) continue;
    const value = m[1] !== undefined ? m[1].slice(1) : cmdline[++i];
    if (value !== undefined) files.push(value);
  }
  return files;
}

/** The warning lines for this process (Linux: /proc/self/cmdline; elsewhere none). */
export function nodeEnvFileWarnings(script: string | undefined): string[] {
  if (script === undefined) return [];
  let cmdline: string[];
  try {
    cmdline = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
  return envFilesNodeRead(cmdline, script).map(
    (f) =>
      `airlock: warning: Node.js itself read ${f} before airlock started (it takes a script's --env-file for its own, nodejs/node#54232; a NODE_OPTIONS line in it applied to airlock): start airlock with the airlock command (bin/airlock) or node -- bin/airlock.js`,
  );
}
