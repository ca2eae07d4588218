// Runs API commands in-process the way src/cli/main.ts does (commander with exitOverride,
// AirlockError → `airlock: message` and exit 1, usage errors → 2), capturing stdout/stderr.
import { mkdtempSync, rmSync } from "node:fs";
import { after, before } from "node:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { isAirlockError, type AirlockError } from "../../src/errors/index.js";
import { registerApiCommands } from "../../src/cli/commands/index.js";
import { startStub, TOKEN, type Stub } from "./stub-server.js";

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
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: { stdin?: string; prompt?: (question: string, hidden: boolean) => Promise<string> } = {},
): Promise<CliResult> {
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
    readStdin: () => Promise.resolve(io.stdin ?? ""),
    ...(io.prompt ? { prompt: io.prompt } : {}),
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

/** What a describe block of CLI tests runs against; the fields are set once its `before` has run. */
export interface StubCli {
  stub: Stub;
  /** An empty AIRLOCK_HOME. */
  home: string;
  /** The environment of a CLI pointed at `stub` with the admin token and `home`. */
  env: NodeJS.ProcessEnv;
}

/**
 * Starts a stub server and a temporary AIRLOCK_HOME before the enclosing describe block's tests
 * (then runs `setup`, e.g. to register repositories), and removes both after them.
 */
export function useStubCli(setup?: (cli: StubCli) => Promise<void>): StubCli {
  const cli = {} as StubCli;
  let home: ReturnType<typeof tempHome> | undefined;
  before(async () => {
    cli.stub = await startStub();
    home = tempHome();
    cli.home = home.dir;
    cli.env = stubEnv(cli.stub.url, home.dir);
    await setup?.(cli);
  });
  after(async () => {
    await cli.stub?.close();
    home?.remove();
  });
  return cli;
}
