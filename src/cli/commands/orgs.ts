// `airlock orgs list|add|limit|require-mfa|rotate-id-token-key|delete`: organizations group repositories under one limit of jobs that
// run at once; "default" exists from the start.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Organization } from "../api/index.js";
import {
  apiOptions,
  connect,
  listCommand,
  failOnProblems,
  intOption,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { table, time } from "./table.js";

interface AddOptions extends CommonOptions {
  maxJobs?: string;
}

const limitText = (o: Organization): string =>
  o.maxConcurrentJobs === null ? "none" : String(o.maxConcurrentJobs);

export function registerOrgs(program: Command, io: CliIo): void {
  const orgs = program.command("orgs").description("organizations and their concurrency limits");

  listCommand(orgs, io, {
    what: "organizations",
    fetch: (c) => c.listOrganizations(),
    render: (all) =>
      table(
        ["ID", "NAME", "LIMIT", "CREATED"],
        all.map((o) => [o.id, o.name, limitText(o), time(o.createdAt)]),
      ),
  });

  apiOptions(
    orgs
      .command("add")
      .description("add an organization")
      .argument("<name>")
      .option("--max-jobs <n>", "at most N jobs of its repositories at once"),
  ).action(async (name: string, opts: AddOptions) => {
    const problems: string[] = [];
    const maxJobs = intOption(opts.maxJobs, "--max-jobs", 1, problems);
    failOnProblems(problems);
    const org = await (
      await connect(opts, io)
    ).addOrganization({
      name,
      ...(maxJobs !== undefined ? { maxConcurrentJobs: maxJobs } : {}),
    });
    if (opts.json) printJson(io, org);
    else io.stdout.write(`Organization ${org.name} added (limit ${limitText(org)}).\n`);
  });

  apiOptions(
    orgs
      .command("limit")
      .description("set the organization's limit of jobs running at once (`none` lifts it)")
      .argument("<name>")
      .argument("<n|none>"),
  ).action(async (name: string, value: string, opts: CommonOptions) => {
    const problems: string[] = [];
    const limit = value === "none" ? null : (intOption(value, "<n|none>", 1, problems) ?? null);
    failOnProblems(problems);
    const org = await (await connect(opts, io)).setOrganizationLimit(name, limit);
    if (opts.json) printJson(io, org);
    else io.stdout.write(`Organization ${org.name}: limit ${limitText(org)}.\n`);
  });

  apiOptions(
    orgs
      .command("require-mfa")
      .description("whether members who log in with a password need TOTP to act in the organization")
      .argument("<name>")
      .argument("<on|off>"),
  ).action(async (name: string, value: string, opts: CommonOptions) => {
    if (value !== "on" && value !== "off")
      throw new AirlockError(ErrorCode.USAGE, `<on|off> expects on or off, got '${value}'`);
    const org = await (await connect(opts, io)).setOrganizationSettings(name, { requireMfa: value === "on" });
    if (opts.json) printJson(io, org);
    else io.stdout.write(`Organization ${org.name}: MFA ${org.requireMfa ? "required" : "not required"}.\n`);
  });

  apiOptions(
    orgs
      .command("rotate-id-token-key")
      .description(
        "a new key signs the organization's job identity tokens from now on; the old one stays published until its tokens expire",
      )
      .argument("<name>"),
  ).action(async (name: string, opts: CommonOptions) => {
    const r = await (await connect(opts, io)).rotateIdTokenKey(name);
    if (opts.json) printJson(io, r);
    else
      io.stdout.write(`Organization ${name}: job identity tokens are now signed with key ${r.kid}.
`);
  });

  apiOptions(
    orgs
      .command("delete")
      .description(
        "delete an organization with its repositories, runs, secrets and tokens; its data key is destroyed first",
      )
      .argument("<name>")
      .option("--yes", "confirm: this cannot be undone"),
  ).action(async (name: string, opts: CommonOptions & { yes?: boolean }) => {
    if (!opts.yes)
      throw new AirlockError(
        ErrorCode.USAGE,
        `deleting organization ${name} destroys its data key, secrets and repositories for good: add --yes to confirm`,
      );
    await (await connect(opts, io)).deleteOrganization(name);
    if (opts.json) printJson(io, { deleted: { organization: name } });
    else io.stdout.write(`Organization ${name} deleted (its data key destroyed).\n`);
  });
}
