// `airlock login`, `airlock logout`, `airlock whoami`. Logging in with a password (and a TOTP or
// recovery code when the user has a second factor) opens a browser-style session only long enough
// to make a personal API token for this machine, then ends it; the token is what the CLI keeps,
// in <AIRLOCK_HOME>/cli.json with mode 0600. `--with-token` stores a token made elsewhere after
// checking it. Secrets are read from the terminal without echo, or from standard input
// (`--password-stdin`, `--with-token`), never from the command line (visible in `ps`).
import { hostname } from "node:os";
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  ApiClient,
  cliConfigPath,
  DEFAULT_SERVER,
  normalise,
  readCliFile,
  saveCliFile,
  type Me,
} from "../api/index.js";
import { apiOptions, connect, printJson, type CliIo, type CommonOptions } from "./context.js";
import { firstLine } from "./prompt.js";

interface LoginOptions {
  server?: string;
  user?: string;
  passwordStdin?: boolean;
  withToken?: boolean;
  code?: string;
  days?: string;
  scopes?: string;
}

async function serverOf(opts: { server?: string }, io: CliIo): Promise<string> {
  if (opts.server) return normalise(opts.server, "--server");
  if (io.env.AIRLOCK_SERVER) return normalise(io.env.AIRLOCK_SERVER, "AIRLOCK_SERVER");
  const file = await readCliFile(cliConfigPath(io.env));
  return file?.server ? normalise(file.server, cliConfigPath(io.env)) : DEFAULT_SERVER;
}

async function ask(io: CliIo, question: string, hidden: boolean, what: string): Promise<string> {
  if (!io.prompt)
    throw new AirlockError(ErrorCode.USAGE, `no terminal to ask for the ${what}: use ${hiddenFlag(what)}`);
  return io.prompt(question, hidden);
}

function hiddenFlag(what: string): string {
  return what === "password" ? "--password-stdin" : what === "user name" ? "--user <name>" : "--code <code>";
}

function describe(me: Me): string {
  if (me.kind === "service") return `service token ${me.tokenId} of organization ${me.organizationId}`;
  return `${me.user.name}${me.user.serverAdmin ? " (server administrator)" : ""}`;
}

/** Logs in with a password (and second factor) and returns a new personal token for this machine. */
async function passwordLogin(
  server: string,
  opts: LoginOptions,
  io: CliIo,
): Promise<{ token: string; user: string }> {
  const user = opts.user ?? (await ask(io, "User: ", false, "user name")).trim();
  const password = opts.passwordStdin
    ? firstLine(await io.readStdin())
    : await ask(io, `Password for ${user}: `, true, "password");
  if (user === "" || password === "")
    throw new AirlockError(ErrorCode.USAGE, "a user name and a password are needed");
  const client = new ApiClient({ server, ...(io.fetch ? { fetch: io.fetch } : {}) });
  const res = await client
    .send("POST", "/api/v1/auth/login", { body: { user, password } })
    .catch((err: unknown) => {
      // Without a token the client would say one is missing; say what the server said.
      if (err instanceof AirlockError && err.code === ErrorCode.UNAUTHORIZED)
        throw new AirlockError(ErrorCode.UNAUTHORIZED, "invalid user name or password");
      throw err;
    });
  const login = (await res.json()) as { csrfToken: string; mfaRequired: boolean };
  let cookie = sessionCookie(res);
  let csrf = login.csrfToken;
  const withSession = (): Record<string, string> => ({ cookie, "x-csrf-token": csrf });
  try {
    if (login.mfaRequired) {
      // --code takes a TOTP code only: a recovery code lasts until used, too long for argv (`ps`).
      if (opts.code !== undefined && !/^\d{6,8}$/.test(opts.code.trim()))
        throw new AirlockError(
          ErrorCode.USAGE,
          "--code takes a TOTP code (digits); type a recovery code when asked",
        );
      const code = (opts.code ?? (await ask(io, "TOTP code (or a recovery code): ", true, "code"))).trim();
      const body = /^\d{6,8}$/.test(code) ? { code } : { recoveryCode: code };
      const mfa = await client
        .send("POST", "/api/v1/auth/mfa", { body, headers: withSession() })
        .catch((err: unknown) => {
          if (err instanceof AirlockError && err.code === ErrorCode.UNAUTHORIZED)
            throw new AirlockError(ErrorCode.UNAUTHORIZED, "invalid code");
          throw err;
        });
      csrf = ((await mfa.json()) as { csrfToken: string }).csrfToken;
      cookie = sessionCookie(mfa);
    }
    const days = opts.days === undefined ? 30 : Number(opts.days);
    const made = await client.send("POST", "/api/v1/tokens", {
      headers: withSession(),
      body: { name: `cli@${hostname()}`.slice(0, 100), scopes: opts.scopes ?? "admin", days },
    });
    const token = ((await made.json()) as { token: string }).token;
    return { token, user };
  } finally {
    // The session was only a means to the token.
    await client.send("POST", "/api/v1/auth/logout", { headers: withSession() }).catch(() => undefined);
  }
}

function sessionCookie(res: Response): string {
  const c = res.headers.getSetCookie().find((h) => h.startsWith("airlock_session="));
  if (!c) throw new AirlockError(ErrorCode.API_FAILED, "the server did not open a session");
  return c.split(";")[0]!;
}

export function registerLogin(program: Command, io: CliIo): void {
  program
    .command("login")
    .description("log in to an Airlock server and keep a personal API token for this machine (0600)")
    .option("--server <url>", "Airlock server (env AIRLOCK_SERVER, default http://127.0.0.1:8420)")
    .option("--user <name>", "user name (asked when not given)")
    .option("--password-stdin", "read the password from standard input")
    .option(
      "--code <code>",
      "TOTP code or recovery code, when the user has a second factor (asked when not given)",
    )
    .option("--with-token", "store a token read from standard input instead of logging in with a password")
    .option("--days <n>", "lifetime of the token made for this machine (1-366)", "30")
    .option("--scopes <list>", "scopes of the token made for this machine", "admin")
    .action(async (opts: LoginOptions) => {
      const server = await serverOf(opts, io);
      if (opts.days !== undefined && !/^\d+$/.test(opts.days))
        throw new AirlockError(ErrorCode.USAGE, `--days expects a whole number, got '${opts.days}'`);
      let token: string;
      if (opts.withToken) {
        token = firstLine(await io.readStdin()).trim();
        if (token === "") throw new AirlockError(ErrorCode.USAGE, "--with-token: no token on standard input");
      } else {
        const u = new URL(server);
        if (u.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(u.hostname))
          io.stderr.write(
            `airlock: warning: ${server} is not https: the password crosses the network in the clear\n`,
          );
        token = (await passwordLogin(server, opts, io)).token;
      }
      const me = await new ApiClient({
        server,
        token,
        tokenSource: opts.withToken ? "standard input" : "the login",
        ...(io.fetch ? { fetch: io.fetch } : {}),
      }).me();
      const path = cliConfigPath(io.env);
      await saveCliFile(path, {
        server,
        token,
        user: me.kind === "user" ? me.user.name : `service-token-${me.tokenId}`,
      });
      io.stdout.write(`Logged in to ${server} as ${describe(me)}; the token is in ${path} (mode 0600).\n`);
    });

  apiOptions(
    program.command("logout").description("revoke the token `airlock login` saved and forget it"),
  ).action(async (opts: CommonOptions) => {
    const path = cliConfigPath(io.env);
    const file = await readCliFile(path);
    if (!file?.token) {
      io.stdout.write("Not logged in.\n");
      return;
    }
    const client = await connect(
      { ...opts, token: file.token, ...(file.server ? { server: file.server } : {}) },
      io,
    );
    try {
      const me = await client.me();
      if (me.kind === "user" && me.tokenId !== null) await client.revokeToken(me.tokenId);
    } catch (err) {
      // A token the server no longer takes (or will not revoke) is forgotten all the same.
      if (!(
        err instanceof AirlockError &&
        (err.code === ErrorCode.UNAUTHORIZED || err.code === ErrorCode.FORBIDDEN)
      ))
        throw err;
      io.stderr.write(
        `airlock: warning: the server did not revoke the token (${err.message}); forgetting it anyway\n`,
      );
    }
    const { token: _gone, ...rest } = file;
    await saveCliFile(path, rest);
    io.stdout.write(`Logged out of ${client.server}.\n`);
  });

  apiOptions(program.command("whoami").description("who the CLI's token belongs to, and their roles")).action(
    async (opts: CommonOptions) => {
      const me = await (await connect(opts, io)).me();
      if (opts.json) return printJson(io, me);
      io.stdout.write(`${describe(me)}\n`);
      if (me.kind === "user")
        for (const g of me.roles)
          io.stdout.write(
            `  ${g.role} of ${g.repository ? `repository ${g.repository}` : `organization ${g.organization}`}\n`,
          );
    },
  );
}
