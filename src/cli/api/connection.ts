// Where the CLI finds its server and token: --server/--token, then AIRLOCK_SERVER/AIRLOCK_TOKEN,
// then <AIRLOCK_HOME>/cli.json (`{ server, token, user? }`, mode 0600: written by `airlock login`,
// or by the server at its first start for the local `admin`), then http://127.0.0.1:8420.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { loadOptions } from "../../config/index.js";

export const DEFAULT_SERVER = "http://127.0.0.1:8420";

export interface Connection {
  /** Base URL without a trailing slash. */
  server: string;
  token?: string;
  /** Where the token came from, named in the message when the server refuses it. */
  tokenSource?: string;
  /** Why no token is sent although cli.json holds one (it belongs to another server). */
  tokenNote?: string;
}

export interface ConnectionFlags {
  server?: string;
  token?: string;
}

export interface CliFile {
  server?: string;
  token?: string;
  /** Who the token belongs to (shown by `airlock whoami` when the server is away). */
  user?: string;
}

export function cliConfigPath(env: NodeJS.ProcessEnv): string {
  return join(loadOptions(env).home, "cli.json");
}

/** Replaces cli.json atomically, readable only by this user (0600; its folder 0700 when made). */
export async function saveCliFile(path: string, file: CliFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new AirlockError(ErrorCode.CONFIG_INVALID, `cannot write ${path}: ${(err as Error).message}`);
  }
}

export async function readCliFile(path: string): Promise<CliFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AirlockError(ErrorCode.CONFIG_INVALID, `cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AirlockError(ErrorCode.CONFIG_INVALID, `${path} is not valid JSON`);
  }
  const o = parsed as Record<string, unknown> | null;
  if (
    typeof o !== "object" ||
    o === null ||
    (o.server !== undefined && typeof o.server !== "string") ||
    (o.token !== undefined && typeof o.token !== "string")
  ) {
    throw new AirlockError(
      ErrorCode.CONFIG_INVALID,
      `${path} must hold { "server": string, "token": string }`,
    );
  }
  return {
    ...(typeof o.server === "string" ? { server: o.server } : {}),
    ...(typeof o.token === "string" ? { token: o.token } : {}),
    ...(typeof o.user === "string" ? { user: o.user } : {}),
  };
}

export function normalise(server: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new AirlockError(ErrorCode.USAGE, `${origin}: '${server}' is not a URL (e.g. ${DEFAULT_SERVER})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AirlockError(ErrorCode.USAGE, `${origin}: '${server}' must be an http:// or https:// URL`);
  }
  return url.href.replace(/\/+$/, "");
}

export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Connection> {
  const path = cliConfigPath(env);
  const file = await readCliFile(path);
  const server = flags.server
    ? normalise(flags.server, "--server")
    : env.AIRLOCK_SERVER
      ? normalise(env.AIRLOCK_SERVER, "AIRLOCK_SERVER")
      : file?.server
        ? normalise(file.server, path)
        : DEFAULT_SERVER;
  if (flags.token) return { server, token: flags.token, tokenSource: "--token" };
  if (env.AIRLOCK_TOKEN) return { server, token: env.AIRLOCK_TOKEN, tokenSource: "AIRLOCK_TOKEN" };
  // The local admin token is sent only to the server the file names (or the default one):
  // pointing the CLI at another server must not leak it there.
  const fileServer = file?.server ? normalise(file.server, path) : DEFAULT_SERVER;
  if (file?.token && fileServer === server) return { server, token: file.token, tokenSource: path };
  return file?.token ? { server, tokenNote: `${path} holds a token for ${fileServer} only` } : { server };
}
