// `airlock users` (server administrators): list, add, show, disable/enable, remove, set a
// password, take away a lost second factor. Users are named by login name (or id). Passwords are
// read from standard input (`--password-stdin`) or asked on the terminal, never taken from argv.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { ApiClient, UserView } from "../api/index.js";
import {
  apiOptions,
  connect,
  findByRef,
  listCommand,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { firstLine } from "./prompt.js";
import { table, time } from "./table.js";

interface AddOptions extends CommonOptions {
  passwordStdin?: boolean;
  serverAdmin?: boolean;
  displayName?: string;
  email?: string;
  external?: boolean;
}

const yes = (b: boolean): string => (b ? "yes" : "no");

export async function userByRef(client: ApiClient, ref: string): Promise<UserView> {
  return findByRef(ref, () => client.listUsers(), "user");
}

async function newPassword(io: CliIo, opts: { passwordStdin?: boolean }, user: string): Promise<string> {
  if (opts.passwordStdin) return firstLine(await io.readStdin());
  if (!io.prompt)
    throw new AirlockError(ErrorCode.USAGE, "no terminal to ask for the password: use --password-stdin");
  const a = await io.prompt(`New password for ${user}: `, true);
  const b = await io.prompt("Again: ", true);
  if (a !== b) throw new AirlockError(ErrorCode.USAGE, "the two passwords differ");
  return a;
}

export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command("users").description("users (server administrators only)");

  listCommand(users, io, {
    what: "users",
    fetch: (c) => c.listUsers(),
    render: (all) =>
      table(
        ["ID", "NAME", "ADMIN", "DISABLED", "PASSWORD", "MFA", "CREATED"],
        all.map((u) => [
          u.id,
          u.name,
          yes(u.serverAdmin),
          yes(u.disabled),
          yes(u.hasPassword),
          yes(u.mfa),
          time(u.createdAt),
        ]),
      ),
  });

  apiOptions(
    users
      .command("add")
      .description(
        "add a user: with a password (asked, or --password-stdin), or --external for single sign-on only",
      )
      .argument("<name>")
      .option("--password-stdin", "read the password from standard input")
      .option("--external", "no password: the user logs in through single sign-on")
      .option("--server-admin", "make the user a server administrator")
      .option("--display-name <text>")
      .option("--email <address>"),
  ).action(async (name: string, opts: AddOptions) => {
    const client = await connect(opts, io);
    const password = opts.external ? undefined : await newPassword(io, opts, name);
    const u = await client.addUser({
      name,
      ...(password !== undefined ? { password } : {}),
      ...(opts.serverAdmin ? { serverAdmin: true } : {}),
      ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
      ...(opts.email !== undefined ? { email: opts.email } : {}),
    });
    if (opts.json) printJson(io, u);
    else
      io.stdout.write(
        `User ${u.name} added (id ${u.id}); they have no role until one is granted (airlock roles grant).\n`,
      );
  });

  apiOptions(users.command("show").description("a user and their roles").argument("<user>")).action(
    async (ref: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const u = await client.getUser((await userByRef(client, ref)).id);
      if (opts.json) return printJson(io, u);
      io.stdout.write(
        `${u.name} (id ${u.id})${u.serverAdmin ? ", server administrator" : ""}${u.disabled ? ", DISABLED" : ""}\n` +
          `  password: ${yes(u.hasPassword)}, TOTP: ${yes(u.mfa)}, created ${time(u.createdAt)}\n`,
      );
      if (u.roles.length === 0) io.stdout.write("  no roles\n");
      for (const g of u.roles)
        io.stdout.write(
          `  ${g.role} of ${g.repository ? `repository ${g.repository}` : `organization ${g.organization}`}\n`,
        );
    },
  );

  for (const [cmd, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const)
    apiOptions(
      users
        .command(cmd)
        .description(
          disabled ? "disable a user: their sessions and tokens end at once" : "enable a disabled user",
        )
        .argument("<user>"),
    ).action(async (ref: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const u = await client.updateUser((await userByRef(client, ref)).id, { disabled });
      if (opts.json) printJson(io, u);
      else io.stdout.write(`User ${u.name} ${disabled ? "disabled" : "enabled"}.\n`);
    });

  for (const [cmd, serverAdmin] of [
    ["promote", true],
    ["demote", false],
  ] as const)
    apiOptions(
      users
        .command(cmd)
        .description(serverAdmin ? "make a user a server administrator" : "take server administration away")
        .argument("<user>"),
    ).action(async (ref: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const u = await client.updateUser((await userByRef(client, ref)).id, { serverAdmin });
      if (opts.json) printJson(io, u);
      else
        io.stdout.write(`User ${u.name} is ${serverAdmin ? "now" : "no longer"} a server administrator.\n`);
    });

  apiOptions(users.command("remove").description("delete a user").argument("<user>")).action(
    async (ref: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const u = await userByRef(client, ref);
      await client.removeUser(u.id);
      io.stdout.write(`User ${u.name} removed.\n`);
    },
  );

  apiOptions(
    users
      .command("set-password")
      .description("set a user's password (their sessions and tokens end)")
      .argument("<user>")
      .option("--password-stdin", "read the password from standard input"),
  ).action(async (ref: string, opts: CommonOptions & { passwordStdin?: boolean }) => {
    const client = await connect(opts, io);
    const u = await userByRef(client, ref);
    await client.resetPassword(u.id, await newPassword(io, opts, u.name));
    io.stdout.write(`Password of ${u.name} set; their sessions and tokens have ended.\n`);
  });

  apiOptions(
    users
      .command("reset-mfa")
      .description("take away a user's TOTP and recovery codes (a lost device)")
      .argument("<user>"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const u = await client.resetMfa((await userByRef(client, ref)).id);
    io.stdout.write(`User ${u.name} has no second factor now; they can set one up again.\n`);
  });
}
