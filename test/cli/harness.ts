// Runs API commands in-process the way src/cli/main.ts does (commander with exitOverride,
// AirlockError → `airlock: message` and exit 1, usage errors → 2), capturing stdout/stderr.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { isAirlockError, type AirlockError } from "../../src/errors/index.js";
import { registerApiCommands } from "../../src/cli/commands/index.js";
import { TOKEN } from "./stub-server.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  error?: AirlockError;
}

export function tempHome(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "airlock-cli-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `env` replaces the defaults (server = stub, token = the stub's, AIRLOCK_HOME = an empty folder). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const dec = new TextDecoder();
  const text = (c: string | Uint8Array): string =>
    typeof c === "string" ? c : dec.decode(c, { stream: true });
  const program = new Command()
    .name("airlock")
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerApiCommands(program, {
    stdout: { write: (c) => (stdout += text(c)) },
    stderr: { write: (c) => (stderr += text(c)) },
    env,
    pollIntervalMs: 1,
    reconnectDelayMs: 1,
  });
  try {
    await program.parseAsync(["node", "airlock", ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, stdout, stderr };
    if (isAirlockError(err)) {
      stderr += `airlock: ${err.message}\n`;
      return { code: err.code === "USAGE" ? 2 : 1, stdout, stderr, error: err };
    }
    throw err;
  }
}

/** The environment of a CLI pointed at the stub; `token: null` leaves AIRLOCK_TOKEN unset. */
export const stubEnv = (server: string, home: string, token: string | null = TOKEN): NodeJS.ProcessEnv => ({
  AIRLOCK_SERVER: server,
  AIRLOCK_HOME: home,
  ...(token !== null ? { AIRLOCK_TOKEN: token } : {}),
});
