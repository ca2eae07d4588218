// The `airlock` command line: parses arguments with commander and dispatches to subcommands.
import { addEgressOptions } from "./egress.js";
import { Command, CommanderError } from "commander";
import { isAirlockError } from "../errors/index.js";
import { exitQuietlyOnClosedPipe } from "./closed-pipe.js";
import { agentVersion as packageVersion } from "../agent/version.js";
import { nodeEnvFileWarnings } from "./node-argv.js";

/** Errors that are the user's mistake (exit code 2, like a bad option); everything else is 1. */
const USER_MISTAKES = new Set<string>([
  "WORKFLOW_INVALID",
  "USAGE",
  "PATH_OUTSIDE_REPOSITORY",
  "IMAGE_INVALID",
  "WORKFLOW_NOT_FOUND",
  "NOT_A_GIT_REPOSITORY",
]);

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** What `airlock --version` and `airlock run --version` print. */
const versionLine = (): string => `airlock ${packageVersion()}`;

type Group = "server" | "agent" | "image" | "api" | "secrets-admin" | "audit";
const ALL_GROUPS: Group[] = ["server", "agent", "image", "api", "secrets-admin", "audit"];
/** Commands served by one group alone; any other command (or help) loads every group. */
const SOLE_GROUP: Record<string, Group[]> = {
  run: [],
  server: ["server"],
  up: ["server"],
  agent: ["agent"],
  image: ["image"],
  secrets: ["api", "secrets-admin"],
  audit: ["audit"],
};

/**
 * The command groups the command line can reach, from its first word that is not an option;
 * undefined when that word is none of the above (an API command such as `runs`, or a mistake).
 */
function commandGroups(argv: string[]): Set<Group> | undefined {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith("-"));
  if (first === undefined) return new Set(args.length === 1 && args[0] === "--version" ? [] : ALL_GROUPS);
  return Object.hasOwn(SOLE_GROUP, first) ? new Set(SOLE_GROUP[first]) : undefined;
}

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedPipe();
  for (const line of nodeEnvFileWarnings(argv[1])) process.stderr.write(line + "\n");
  const program = new Command();
  let exitCode = 0;
  program
    .name("airlock")
    .description("Airlock: GitHub Actions workflows on single-use, isolated machines")
    .version(versionLine(), "--version", "print the version")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addEgressOptions(program.command("run"))
    .description("run the workflows of the git repository in the current folder, each job in a fresh sandbox")
    .argument(
      "[event]",
      "event that triggers the run (default: the only event the workflows have, else push)",
    )
    .option("-W, --workflows <path>", "workflow file or folder", undefined)
    .option("-j, --job <id>", "run only this job (and the jobs it needs)")
    .option("-l, --list", "list the jobs (stage, id, name, workflow, events) instead of running them")
    .option("-g, --graph", "draw the jobs' graph instead of running them")
    .option(
      "-n, --dryrun",
      "plan the run and print what would run, per job and step, without creating machines",
    )
    .option(
      "--matrix <key:value>",
      "run only the matrix legs with this value (repeatable; values of one key add up)",
      collect,
      [],
    )
    .option("-e, --event-path <file>", "event payload (JSON) instead of a generated one")
    .option(
      "--input <name=value>",
      "workflow_dispatch input (repeatable; wins over --input-file)",
      collect,
      [],
    )
    .option(
      "--input-file <file>",
      "workflow_dispatch inputs as a dotenv file (default: .input in the repository, if any)",
    )
    .option("--secret-file <file>", "secrets as a dotenv file (default: .secrets in the repository, if any)")
    .option(
      "-s, --secret <NAME=value|NAME>",
      "a secret (repeatable); NAME alone takes the value from the environment variable NAME, off the command line",
      collect,
      [],
    )
    .option(
      "--var <name=value>",
      "configuration variable, the `vars` context (repeatable; wins over --var-file)",
      collect,
      [],
    )
    .option("--var-file <file>", "variables as a dotenv file (default: .vars in the repository, if any)")
    .option(
      "--env <name=value>",
      "environment variable of every job (repeatable; wins over --env-file)",
      collect,
      [],
    )
    .option(
      "--env-file <file>",
      "environment of every job as a dotenv file (default: .env in the repository, if any); over the workflow's and jobs' env, under steps'",
    )
    .option(
      "-P, --platform <label=image|rootfs>",
      "run jobs with this runs-on label on this image, or in this root filesystem folder (repeatable)",
      collect,
      [],
    )
    .option(
      "--actions-url <base>",
      "where owner/repo@ref actions are fetched from (default https://github.com)",
    )
    .option(
      "--limit <name=value>",
      "machine limit: cpus, memory-mb, disk-mb, pids, nofile, shm-mb, tmp-mb (repeatable; as root the defaults are 3/4 of RAM, 10240 MiB disk, 4096 pids)",
      collect,
      [],
    )
    .option("--json", "print one JSON document describing the run on stdout")
    .option(
      "--host-root",
      "run jobs on this host's root filesystem (read-only) instead of the debian-12 image: only for trusted workflows",
    )
    .version(versionLine(), "--version", "print the version (as airlock --version)")
    .action(async (event: string | undefined, opts: Record<string, unknown>) => {
      const { runCommand } = await import("./run.js");
      exitCode = await runCommand(event, {
        ...(typeof opts.workflows === "string" ? { workflows: opts.workflows } : {}),
        ...(typeof opts.job === "string" ? { job: opts.job } : {}),
        ...(typeof opts.eventPath === "string" ? { eventPath: opts.eventPath } : {}),
        input: opts.input as string[],
        ...(typeof opts.inputFile === "string" ? { inputFile: opts.inputFile } : {}),
        ...(typeof opts.varFile === "string" ? { varFile: opts.varFile } : {}),
        ...(typeof opts.envFile === "string" ? { envFile: opts.envFile } : {}),
        env: opts.env as string[],
        matrix: opts.matrix as string[],
        list: opts.list === true,
        graph: opts.graph === true,
        dryrun: opts.dryrun === true,
        ...(typeof opts.secretFile === "string" ? { secretFile: opts.secretFile } : {}),
        secret: opts.secret as string[],
        var: opts.var as string[],
        platform: opts.platform as string[],
        limit: opts.limit as string[],
        ...(typeof opts.actionsUrl === "string" ? { actionsUrl: opts.actionsUrl } : {}),
        json: opts.json === true,
        egressAllow: opts.egressAllow as string[],
        egressDeny: opts.egressDeny as string[],
        egressDns: opts.egressDns as string[],
        hostRoot: opts.hostRoot === true,
      });
    });
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  // Each command group is loaded only when the command line can need it: loading all of them
  // (the server, the agent, PostgreSQL, the KMS…) costs more than `airlock run` itself needs.
  let groups = commandGroups(argv);
  if (groups === undefined) {
    // The API commands are light: load them, and everything else only if the word is not theirs.
    (await import("./commands/index.js")).registerApiCommands(program);
    const first = argv.slice(2).find((a) => !a.startsWith("-"));
    const known = program.commands.some((c) => c.name() === first || c.aliases().includes(first ?? ""));
    groups = new Set(known ? [] : ALL_GROUPS.filter((g) => g !== "api"));
  }
  if (groups.has("server")) (await import("./server.js")).registerServerCommands(program, setExitCode);
  if (groups.has("agent")) (await import("./agent.js")).registerAgentCommand(program, setExitCode);
  if (groups.has("image")) (await import("./image.js")).registerImageCommands(program, setExitCode);
  if (groups.has("api")) (await import("./commands/index.js")).registerApiCommands(program);
  if (groups.has("secrets-admin")) (await import("./secrets-admin.js")).registerSecretsAdmin(program);
  if (groups.has("audit")) (await import("./audit.js")).registerAuditCommands(program);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isAirlockError(err)) {
      process.stderr.write(`airlock: ${err.message}\n`);
      return USER_MISTAKES.has(err.code) ? 2 : 1;
    }
    throw err;
  }
}
