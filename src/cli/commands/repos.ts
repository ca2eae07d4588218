// `airlock repos add|list|edit|remove|egress|dispatch`: repositories the built-in git job source
// watches, the destinations their jobs may reach through the node's egress proxy, and
// repository_dispatch events sent to them; `credentials`, `set-credential` and
// `remove-credential` are in credentials.ts, `forge` (where commit statuses go) in forge.ts,
// `artifact-policy` (artifact quota and promotion gate) in artifact-policy.ts.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { terminalPrompt } from "./prompt.js";
import type { CreatedRepository, Repository, UpdateRepositoryBody } from "../api/index.js";
import {
  apiOptions,
  connect,
  listCommand,
  failOnProblems,
  findByRef,
  intOption,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { registerArtifactPolicy } from "./artifact-policy.js";
import { registerCredentials } from "./credentials.js";
import { registerForge } from "./forge.js";
import { readOptionJson } from "../args.js";
import { runLabel } from "./runs-view.js";
import { status, table, time } from "./table.js";

interface AddOptions extends CommonOptions {
  defaultBranch?: string;
  poll?: string;
  maxJobs?: string;
  org?: string;
}

interface EditOptions extends CommonOptions {
  cloneUrl?: string;
  defaultBranch?: string;
  /** A number of seconds, false for --no-poll, true (commander's default for a --no- flag) when neither. */
  poll?: string | boolean;
  maxJobs?: string | boolean;
  visibility?: string;
}

function printCreated(io: CliIo, r: CreatedRepository): void {
  const out = io.stdout;
  out.write(`Repository ${r.name} added (id ${r.id}).\n\n`);
  out.write(`Webhook secret (shown only this once; set it in the forge's webhook settings):\n`);
  out.write(`  ${r.webhookSecret}\n\n`);
  out.write("Webhook URLs (content type application/json):\n");
  out.write(
    table(
      ["  PROVIDER", "URL"],
      Object.entries(r.webhookUrls).map(([provider, url]) => [`  ${provider}`, url]),
    ),
  );
}

export function reposTable(repos: Repository[]): string {
  return table(
    ["ID", "NAME", "BRANCH", "POLL", "MAX JOBS", "VISIBILITY", "CREATED", "CLONE URL"],
    repos.map((r) => [
      r.id,
      r.name,
      r.defaultBranch,
      r.pollIntervalSeconds ? `${r.pollIntervalSeconds}s` : null,
      r.maxConcurrentJobs,
      r.visibility,
      time(r.createdAt),
      r.cloneUrl,
    ]),
  );
}

export function registerRepos(program: Command, io: CliIo): void {
  const repos = program.command("repos").description("repositories whose workflows the server runs");

  apiOptions(
    repos
      .command("add")
      .description("register a repository; prints its webhook secret and URLs once")
      .argument("<name>", "owner/repo")
      .argument(
        "<cloneUrl>",
        "URL the server and machines fetch the code from (a password in it is sealed and taken out; prefer set-credential)",
      )
      .option("--default-branch <branch>", "branch of manual triggers and polling", undefined)
      .option("--poll <seconds>", "poll the remote every N seconds (for forges without webhooks)")
      .option("--max-jobs <n>", "at most N jobs of this repository at once")
      .option("--org <name>", "organization it joins (its limit covers all its repositories)")
      .option(
        "--visibility <visibility>",
        "private (default) or public: who sees its status badges without signing in",
      ),
  ).action(async (name: string, cloneUrl: string, opts: AddOptions & { visibility?: string }) => {
    const problems: string[] = [];
    const poll = intOption(opts.poll, "--poll", 1, problems);
    const maxJobs = intOption(opts.maxJobs, "--max-jobs", 1, problems);
    const visibility = opts.visibility;
    if (visibility !== undefined && visibility !== "public" && visibility !== "private")
      problems.push(`--visibility must be public or private, not '${visibility}'`);
    failOnProblems(problems);
    const client = await connect(opts, io);
    const created = await client.addRepository({
      name,
      cloneUrl,
      ...(opts.defaultBranch ? { defaultBranch: opts.defaultBranch } : {}),
      ...(poll !== undefined ? { pollIntervalSeconds: poll } : {}),
      ...(maxJobs !== undefined ? { maxConcurrentJobs: maxJobs } : {}),
      ...(opts.org ? { organization: opts.org } : {}),
      ...(visibility === "public" || visibility === "private" ? { visibility } : {}),
    });
    if (opts.json) printJson(io, created);
    else printCreated(io, created);
  });

  listCommand(repos, io, { what: "repositories", fetch: (c) => c.listRepositories(), render: reposTable });

  apiOptions(
    repos
      .command("edit")
      .description("change what `repos add` set; the webhook secret stays (the forge needs no change)")
      .argument("<repo>", "id or owner/repo")
      .option(
        "--clone-url <url>",
        "new clone URL (a password in it is sealed and taken out, as with add; prefer set-credential)",
      )
      .option("--default-branch <branch>", "branch of manual triggers and polling")
      .option("--poll <seconds>", "poll the remote every N seconds (at least 10)")
      .option("--no-poll", "stop polling (webhooks only)")
      .option("--max-jobs <n>", "at most N jobs of this repository at once")
      .option("--no-max-jobs", "no limit of its own (the organization's still applies)")
      .option(
        "--visibility <visibility>",
        "public: anyone may see its status badges; private (default): only who may read it",
      ),
  ).action(async (ref: string, opts: EditOptions) => {
    const problems: string[] = [];
    const visibility = opts.visibility;
    if (visibility !== undefined && visibility !== "public" && visibility !== "private")
      problems.push(`--visibility must be public or private, not '${visibility}'`);
    const poll = typeof opts.poll === "string" ? intOption(opts.poll, "--poll", 10, problems) : undefined;
    const maxJobs =
      typeof opts.maxJobs === "string" ? intOption(opts.maxJobs, "--max-jobs", 1, problems) : undefined;
    const body: UpdateRepositoryBody = {
      ...(opts.cloneUrl !== undefined ? { cloneUrl: opts.cloneUrl } : {}),
      ...(opts.defaultBranch !== undefined ? { defaultBranch: opts.defaultBranch } : {}),
      ...(poll !== undefined
        ? { pollIntervalSeconds: poll }
        : opts.poll === false
          ? { pollIntervalSeconds: null }
          : {}),
      ...(maxJobs !== undefined
        ? { maxConcurrentJobs: maxJobs }
        : opts.maxJobs === false
          ? { maxConcurrentJobs: null }
          : {}),
      ...(visibility === "public" || visibility === "private" ? { visibility } : {}),
    };
    if (problems.length === 0 && Object.keys(body).length === 0)
      problems.push(
        "nothing to change: give --clone-url, --default-branch, --poll/--no-poll, --max-jobs/--no-max-jobs or --visibility",
      );
    failOnProblems(problems);
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listRepositories(), "repository");
    const repo = await client.updateRepository(found.id, body);
    if (opts.json) printJson(io, repo);
    else
      io.stdout.write(`Repository ${repo.name} changed (webhook secret unchanged):\n${reposTable([repo])}`);
  });

  apiOptions(
    repos
      .command("egress")
      .description(
        "show or set the destinations this repository's jobs may reach through the egress proxy (beside the node's own list)",
      )
      .argument("<repo>", "id or owner/repo")
      .option(
        "--allow <host:port>",
        "host:port, *.domain:port, ip:port or [ipv6]:port; replaces the list (repeatable)",
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      )
      .option("--none", "remove the list (the node's list alone applies)"),
  ).action(async (ref: string, opts: CommonOptions & { allow: string[]; none?: boolean }) => {
    if (opts.none && opts.allow.length > 0) failOnProblems(["--allow and --none exclude each other"]);
    const client = await connect(opts, io);
    let repo = await findByRef(ref, () => client.listRepositories(), "repository");
    if (opts.none || opts.allow.length > 0) {
      repo = await client.setRepositoryEgress(repo.id, { allow: opts.none ? [] : opts.allow });
    }
    if (opts.json) printJson(io, { id: repo.id, name: repo.name, egressAllow: repo.egressAllow });
    else if (repo.egressAllow.length === 0) {
      io.stdout.write(`Repository ${repo.name}: no egress of its own (only the node's list applies).\n`);
    } else {
      io.stdout.write(
        `Repository ${repo.name} may reach:\n${repo.egressAllow.map((e) => `  ${e}\n`).join("")}`,
      );
    }
  });

  registerCredentials(repos, io);
  registerForge(repos, io);
  registerArtifactPolicy(repos, io);

  apiOptions(
    repos
      .command("dispatch")
      .description(
        "send a repository_dispatch event: runs the default branch's workflows whose types take <event_type>",
      )
      .argument("<repo>", "id or owner/repo")
      .argument("<event_type>", "github.event.action, matched against `on: repository_dispatch: types:`")
      .option("--payload <file>", "JSON object for github.event.client_payload"),
  ).action(async (ref: string, eventType: string, opts: CommonOptions & { payload?: string }) => {
    // Read before connecting: a missing or malformed file is the user's to fix, nothing is sent.
    const clientPayload = opts.payload ? await readOptionJson(opts.payload, "--payload") : undefined;
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const { runs } = await client.dispatch(repo.id, {
      event_type: eventType,
      ...(clientPayload ? { client_payload: clientPayload } : {}),
    });
    if (opts.json) printJson(io, { runs });
    else if (runs.length === 0)
      io.stdout.write(`No workflow of ${repo.name} runs on repository_dispatch '${eventType}'.\n`);
    else
      for (const r of runs)
        io.stdout.write(`Run ${r.id} ${runLabel(r)} ${status(r.state, r.conclusion)}: ${r.url}\n`);
  });

  apiOptions(
    repos
      .command("remove")
      .description(
        "remove a repository with its runs, logs, secrets, variables, environments and credentials",
      )
      .argument("<repo>", "id or owner/repo")
      .option("--yes", "confirm without being asked (needed when standard input is not a terminal)"),
  ).action(async (ref: string, opts: CommonOptions & { yes?: boolean }) => {
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const what = `removing ${repo.name} deletes its runs, logs, secrets, variables, environments and credentials for good`;
    if (!opts.yes) {
      if (!process.stdin.isTTY) throw new AirlockError(ErrorCode.USAGE, `${what}: add --yes to confirm`);
      const answer = await terminalPrompt(`${what}.\nType the repository's name to confirm: `, false);
      if (answer.trim() !== repo.name)
        throw new AirlockError(ErrorCode.USAGE, `not removed: the name typed was not ${repo.name}`);
    }
    await client.removeRepository(repo.id);
    if (opts.json) printJson(io, { removed: { id: repo.id, name: repo.name } });
    else io.stdout.write(`Repository ${repo.name} (id ${repo.id}) removed.\n`);
  });
}
