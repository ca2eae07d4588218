// `airlock roles list|grant|revoke` (who may do what in an organization or on a repository) and
// `airlock tokens list|create|revoke` (one's personal tokens, or an organization's service tokens
// with --org). A new token is printed once; lists never show secrets.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { ApiClient, MemberPlace } from "../api/index.js";
import {
  apiOptions,
  connect,
  findByRef,
  idArgument,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { table, time } from "./table.js";

interface PlaceOptions extends CommonOptions {
  org?: string;
  repo?: string;
}

const ROLES = ["viewer", "developer", "maintainer", "admin"];

async function placeOf(client: ApiClient, opts: PlaceOptions): Promise<MemberPlace> {
  if ((opts.org === undefined) === (opts.repo === undefined))
    throw new AirlockError(ErrorCode.USAGE, "name the place: --org <name> or --repo <name|id>");
  if (opts.org !== undefined) return { organization: opts.org };
  const repo = await findByRef(opts.repo!, () => client.listRepositories(), "repository");
  return { repository: repo.id };
}

function placed(cmd: Command): Command {
  return apiOptions(cmd.option("--org <name>", "an organization").option("--repo <name|id>", "a repository"));
}

export function registerRoles(program: Command, io: CliIo): void {
  const roles = program
    .command("roles")
    .description(`roles in organizations and on repositories (${ROLES.join(", ")})`);

  placed(roles.command("list").description("who holds which role")).action(async (opts: PlaceOptions) => {
    const client = await connect(opts, io);
    const grants = await client.listMembers(await placeOf(client, opts));
    if (opts.json) return printJson(io, grants);
    io.stdout.write(
      grants.length === 0
        ? "No roles.\n"
        : table(
            ["USER", "ROLE", "WHERE", "SINCE"],
            grants.map((g) => [
              g.userName,
              g.role,
              g.repository ? `repository ${g.repository}` : `organization ${g.organization}`,
              time(g.createdAt),
            ]),
          ),
    );
  });

  placed(roles.command("grant").description("give a user a role (replacing their role there)"))
    .argument("<user>")
    .argument("<role>", ROLES.join("|"))
    .action(async (user: string, role: string, opts: PlaceOptions) => {
      if (!ROLES.includes(role))
        throw new AirlockError(ErrorCode.USAGE, `unknown role '${role}' (roles: ${ROLES.join(", ")})`);
      const client = await connect(opts, io);
      const g = await client.grantRole(await placeOf(client, opts), user, role);
      if (opts.json) printJson(io, g);
      else
        io.stdout.write(
          `${g.userName} is now ${g.role} of ${g.repository ? `repository ${g.repository}` : `organization ${g.organization}`}.\n`,
        );
    });

  placed(roles.command("revoke").description("take a user's role away"))
    .argument("<user>")
    .action(async (user: string, opts: PlaceOptions) => {
      const client = await connect(opts, io);
      await client.revokeRole(await placeOf(client, opts), user);
      io.stdout.write(`Role of ${user} removed.\n`);
    });
}

interface TokenOptions extends CommonOptions {
  org?: string;
  scopes?: string;
  days?: string;
}

export function registerTokens(program: Command, io: CliIo): void {
  const tokens = program
    .command("tokens")
    .description("API tokens: your personal ones, or an organization's service tokens (--org)");

  apiOptions(
    tokens.command("list").description("list tokens (never their secrets)").option("--org <name>"),
  ).action(async (opts: TokenOptions) => {
    const all = await (await connect(opts, io)).listTokens(opts.org);
    if (opts.json) return printJson(io, all);
    io.stdout.write(
      all.length === 0
        ? "No tokens.\n"
        : table(
            ["ID", "NAME", "PUBLIC ID", "SCOPES", "EXPIRES", "LAST USED", "STATE"],
            all.map((t) => [
              t.id,
              t.name,
              t.publicId,
              t.scopes.join(","),
              t.expiresAt ? time(t.expiresAt) : "never",
              t.lastUsedAt ? time(t.lastUsedAt) : "-",
              t.revokedAt
                ? "revoked"
                : t.expiresAt && Date.parse(t.expiresAt) < Date.now()
                  ? "expired"
                  : "active",
            ]),
          ),
    );
  });

  apiOptions(
    tokens
      .command("create")
      .description("make a token (printed once)")
      .argument("<name>")
      .requiredOption(
        "--scopes <list>",
        "comma-separated: runs:read, runs:write, repos:read, repos:admin, nodes:read, nodes:admin, audit:read, admin",
      )
      .option("--days <n>", "lifetime in days (1-366, default 90)")
      .option("--org <name>", "a service token of this organization instead of a personal one"),
  ).action(async (name: string, opts: TokenOptions) => {
    if (opts.days !== undefined && !/^\d+$/.test(opts.days))
      throw new AirlockError(ErrorCode.USAGE, `--days expects a whole number, got '${opts.days}'`);
    const made = await (
      await connect(opts, io)
    ).createToken(
      { name, scopes: opts.scopes ?? "", ...(opts.days !== undefined ? { days: Number(opts.days) } : {}) },
      opts.org,
    );
    if (opts.json) return printJson(io, made);
    io.stdout.write(
      `Token ${made.name} (id ${made.id}, scopes ${made.scopes.join(",")}, expires ${made.expiresAt ?? "never"}); shown this once:\n  ${made.token}\n`,
    );
  });

  apiOptions(
    tokens.command("revoke").description("revoke a token at once").argument("<id>").option("--org <name>"),
  ).action(async (id: string, opts: TokenOptions) => {
    await (await connect(opts, io)).revokeToken(idArgument(id, "<id>"), opts.org);
    io.stdout.write(`Token ${id} revoked.\n`);
  });
}
