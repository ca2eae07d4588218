// Where the CLI finds its server and admin token: --server/--token, then AIRLOCK_SERVER/
// AIRLOCK_TOKEN, then <AIRLOCK_HOME>/cli.json (`{ server, token }`, written by the server at
// first start for the local admin), then http://127.0.0.1:8420.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
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

interface CliFile {
  server?: string;
  token?: string;
}

async function readCliFile(path: string): Promise<CliFile | undefined> {
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
  };
}

function normalise(server: string, origin: string): string {
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
  const path = join(loadOptions(env).home, "cli.json");
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
