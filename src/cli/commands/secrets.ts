// `airlock secrets list|set|remove` and `airlock vars list|set|remove`, for an organization
// (--org), a repository (--repo) or an environment of one (--repo … --env). A secret's value is
// read from standard input when it is not a terminal, else asked without echo — never from the
// command line, where `ps` and the shell's history would keep it; lists never show values.
// (`airlock secrets rotate` runs on the server's machine: ../secrets-admin.ts.)
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  listSecrets,
  listVariables,
  removeItem,
  setSecret,
  setVariable,
  type ApiClient,
  type ItemPlace,
} from "../api/index.js";
import { apiOptions, connect, findByRef, printJson, type CliIo, type CommonOptions } from "./context.js";
import { table, time } from "./table.js";

interface PlaceOptions extends CommonOptions {
  org?: string;
  repo?: string;
  env?: string;
}

async function placeOf(client: ApiClient, opts: PlaceOptions): Promise<ItemPlace> {
  if ((opts.org === undefined) === (opts.repo === undefined))
    throw new AirlockError(
      ErrorCode.USAGE,
      "name the place: --org <name>, or --repo <name|id> [--env <name>]",
    );
  if (opts.org !== undefined) {
    if (opts.env !== undefined)
      throw new AirlockError(ErrorCode.USAGE, "--env needs --repo (environments belong to a repository)");
    return { organization: opts.org };
  }
  const repo = await findByRef(opts.repo!, () => client.listRepositories(), "repository");
  return { repository: repo.id, ...(opts.env !== undefined ? { environment: opts.env } : {}) };
}

function describe(p: ItemPlace): string {
  if ("organization" in p) return `organization ${p.organization}`;
  return p.environment === undefined
    ? `repository ${p.repository}`
    : `environment ${p.environment} of repository ${p.repository}`;
}

function placed(cmd: Command): Command {
  return apiOptions(
    cmd
      .option("--org <name>", "an organization's")
      .option("--repo <name|id>", "a repository's")
      .option("--env <name>", "an environment's (with --repo)"),
  );
}

/** The value: all of standard input (one trailing newline dropped from a one-line value), or a hidden prompt. */
async function readValue(io: CliIo, name: string, hidden = true): Promise<string> {
  if (io.prompt) return io.prompt(hidden ? `Value of ${name} (not shown): ` : `Value of ${name}: `, hidden);
  const text = await io.readStdin();
  const single = text.replace(/\r?\n$/, "");
  return /[\r\n]/.test(single) ? text : single;
}

export function registerSecrets(program: Command, io: CliIo): Command {
  const secrets = program
    .command("secrets")
    .description(
      "secrets of an organization, a repository or an environment (write-only: values are never shown)",
    );

  placed(secrets.command("list").description("names, versions, and who changed them when")).action(
    async (opts: PlaceOptions) => {
      const client = await connect(opts, io);
      const all = await listSecrets(client, await placeOf(client, opts));
      if (opts.json) return printJson(io, all);
      io.stdout.write(
        all.length === 0
          ? "No secrets.\n"
          : table(
              ["NAME", "VERSION", "UPDATED", "BY"],
              all.map((s) => [s.name, s.version, time(s.updatedAt), s.updatedBy]),
            ),
      );
    },
  );

  placed(
    secrets
      .command("set")
      .description(
        "set a secret; the value is read from standard input, or asked for without echo on a terminal",
      )
      .argument("<name>")
      // A value given anyway is refused with the reason, rather than as a bare "too many arguments".
      .allowExcessArguments(true),
  ).action(async (name: string, opts: PlaceOptions, cmd: Command) => {
    if (cmd.args.length > 1)
      throw new AirlockError(
        ErrorCode.USAGE,
        "the value is not taken from the command line (ps and shell history would show it): pipe it in, or type it at the prompt",
      );
    const client = await connect(opts, io);
    const place = await placeOf(client, opts);
    const secret = await setSecret(client, place, name, await readValue(io, name));
    if (opts.json) return printJson(io, secret);
    io.stdout.write(`Secret ${secret.name} of ${describe(place)} set (version ${secret.version}).\n`);
  });

  placed(secrets.command("remove").description("delete a secret").argument("<name>")).action(
    async (name: string, opts: PlaceOptions) => {
      const client = await connect(opts, io);
      const place = await placeOf(client, opts);
      await removeItem(client, place, "secrets", name);
      io.stdout.write(`Secret ${name.toUpperCase()} of ${describe(place)} removed.\n`);
    },
  );
  return secrets;
}

export function registerVars(program: Command, io: CliIo): void {
  const vars = program
    .command("vars")
    .description(
      "configuration variables (the vars context) of an organization, a repository or an environment",
    );

  placed(vars.command("list").description("names and values")).action(async (opts: PlaceOptions) => {
    const client = await connect(opts, io);
    const all = await listVariables(client, await placeOf(client, opts));
    if (opts.json) return printJson(io, all);
    io.stdout.write(
      all.length === 0
        ? "No variables.\n"
        : table(
            ["NAME", "VALUE", "UPDATED", "BY"],
            all.map((v) => [
              v.name,
              v.value.length > 60 ? `${v.value.slice(0, 57)}...` : v.value,
              time(v.updatedAt),
              v.updatedBy,
            ]),
          ),
    );
  });

  placed(
    vars
      .command("set")
      .description("create or replace a variable (the value from the argument, else from standard input)")
      .argument("<name>")
      .argument("[value]"),
  ).action(async (name: string, value: string | undefined, opts: PlaceOptions) => {
    const client = await connect(opts, io);
    const place = await placeOf(client, opts);
    const v = await setVariable(client, place, name, value ?? (await readValue(io, name, false)));
    if (opts.json) return printJson(io, v);
    io.stdout.write(`Variable ${v.name} of ${describe(place)} set.\n`);
  });

  placed(vars.command("remove").description("delete a variable").argument("<name>")).action(
    async (name: string, opts: PlaceOptions) => {
      const client = await connect(opts, io);
      const place = await placeOf(client, opts);
      await removeItem(client, place, "variables", name);
      io.stdout.write(`Variable ${name.toUpperCase()} of ${describe(place)} removed.\n`);
    },
  );
}
