// What every API command shares: the --server/--token/--json options, where output goes
// (injectable, so tests run commands in-process), and looking objects up by id or name.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ApiClient, resolveConnection } from "../api/index.js";
import { readAllStdin, terminalPrompt } from "./prompt.js";

export interface Writer {
  write(chunk: string | Uint8Array): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
  /** How often `runs trigger --wait` polls the run. */
  pollIntervalMs: number;
  /** First pause before `logs --follow` reconnects. */
  reconnectDelayMs: number;
  fetch?: typeof fetch;
  /** All of standard input (for --password-stdin and --with-token). */
  readStdin: () => Promise<string>;
  /** Asks on the terminal; `hidden` does not echo what is typed. Undefined when there is no terminal. */
  prompt?: (question: string, hidden: boolean) => Promise<string>;
}

export function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    pollIntervalMs: 1000,
    reconnectDelayMs: 250,
    readStdin: readAllStdin,
    ...(process.stdin.isTTY && process.stderr.isTTY ? { prompt: terminalPrompt } : {}),
  };
}

export interface CommonOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds the options every API command takes. */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option("--server <url>", "Airlock server (env AIRLOCK_SERVER, default http://127.0.0.1:8420)")
    .option("--token <token>", "API token (env AIRLOCK_TOKEN, or the one `airlock login` saved)")
    .option("--json", "print JSON instead of a table");
}

export async function connect(opts: CommonOptions, io: CliIo): Promise<ApiClient> {
  const conn = await resolveConnection(
    { ...(opts.server ? { server: opts.server } : {}), ...(opts.token ? { token: opts.token } : {}) },
    io.env,
  );
  return new ApiClient({ ...conn, ...(io.fetch ? { fetch: io.fetch } : {}) });
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Finds an object by name, or by id when `ref` is a number no object is named after.
 * Listing first means names that look like numbers still work.
 */
export async function findByRef<T extends { id: number; name: string }>(
  ref: string,
  list: () => Promise<T[]>,
  kind: string,
): Promise<T> {
  const all = await list();
  const found =
    all.find((o) => o.name === ref) ??
    (/^\d+$/.test(ref) ? all.find((o) => o.id === Number(ref)) : undefined);
  if (!found) throw new AirlockError(ErrorCode.NOT_FOUND, `no ${kind} '${ref}'`);
  return found;
}

/** Parses a whole-number option; problems are collected so one message names them all. */
export function intOption(
  value: string | undefined,
  flag: string,
  min: number,
  problems: string[],
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    problems.push(`${flag} expects a whole number ≥ ${min}, got '${value}'`);
    return undefined;
  }
  return Number(value);
}

export function idArgument(value: string, what: string): number {
  if (!/^\d+$/.test(value))
    throw new AirlockError(ErrorCode.USAGE, `${what} must be a number, got '${value}'`);
  return Number(value);
}

export function failOnProblems(problems: string[]): void {
  if (problems.length > 0)
    throw new AirlockError(ErrorCode.USAGE, problems.join("; "), { details: problems });
}

/** `<parent> list`: fetches the items and prints them as JSON (`--json`) or as a table. */
export function listCommand<T>(
  parent: Command,
  io: CliIo,
  o: { what: string; fetch: (client: ApiClient) => Promise<T[]>; render: (items: T[]) => string },
): void {
  apiOptions(parent.command("list").description(`list ${o.what}`)).action(async (opts: CommonOptions) => {
    const all = await o.fetch(await connect(opts, io));
    if (opts.json) printJson(io, all);
    else io.stdout.write(all.length === 0 ? `No ${o.what}.\n` : o.render(all));
  });
}
