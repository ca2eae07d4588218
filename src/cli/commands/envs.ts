// `airlock envs list|set|remove <repo>`: environments of a repository and their protection rules;
// `airlock runs deployments|approve|reject <run>`: what a run waits for, and its review.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  listDeployments,
  listEnvironments,
  putEnvironment,
  removeEnvironment,
  reviewDeployments,
  type ApiClient,
} from "../api/index.js";
import type { PutEnvironmentBody } from "../../server/schemas-environments.js";
import {
  apiOptions,
  collect,
  connect,
  failOnProblems,
  findByRef,
  idArgument,
  intOption,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { list, table, time } from "./table.js";

interface SetOptions extends CommonOptions {
  reviewer: string[];
  reviewers?: boolean;
  reviewerRole?: string;
  branch: string[];
  tag: string[];
  anyRef?: boolean;
  waitTimer?: string;
}

const repoId = async (client: ApiClient, ref: string): Promise<number> =>
  (await findByRef(ref, () => client.listRepositories(), "repository")).id;

/** The rules the options change (the others stay as they are). */
function rulesOf(opts: SetOptions): PutEnvironmentBody {
  const problems: string[] = [];
  const body: PutEnvironmentBody = {};
  if (opts.reviewers === false && opts.reviewer.length > 0)
    problems.push("--no-reviewers and --reviewer contradict each other");
  if (opts.reviewers === false) body.reviewers = [];
  else if (opts.reviewer.length > 0) body.reviewers = opts.reviewer;
  if (opts.reviewerRole !== undefined) {
    const r = opts.reviewerRole;
    if (r === "none") body.reviewerRole = null;
    else if (r === "viewer" || r === "developer" || r === "maintainer" || r === "admin")
      body.reviewerRole = r;
    else problems.push(`--reviewer-role expects viewer, developer, maintainer, admin or none, got '${r}'`);
  }
  if (opts.anyRef && (opts.branch.length > 0 || opts.tag.length > 0))
    problems.push("--any-ref and --branch/--tag contradict each other");
  if (opts.anyRef) Object.assign(body, { branches: [], tags: [] });
  if (opts.branch.length > 0) body.branches = opts.branch;
  if (opts.tag.length > 0) body.tags = opts.tag;
  const wait = intOption(opts.waitTimer, "--wait-timer", 0, problems);
  if (wait !== undefined) body.waitTimerMinutes = wait;
  failOnProblems(problems);
  return body;
}

export function registerEnvs(program: Command, io: CliIo): void {
  const envs = program
    .command("envs")
    .description("environments of a repository and their protection rules (reviewers, branches, wait timer)");

  apiOptions(envs.command("list").description("environments and their rules").argument("<repo>")).action(
    async (repo: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const all = await listEnvironments(client, await repoId(client, repo));
      if (opts.json) return printJson(io, all);
      io.stdout.write(
        all.length === 0
          ? "No environments.\n"
          : table(
              ["NAME", "REVIEWERS", "ROLE", "BRANCHES", "TAGS", "WAIT", "UPDATED"],
              all.map((e) => [
                e.name,
                list(e.reviewers),
                e.reviewerRole ?? "-",
                e.branches.length + e.tags.length === 0 ? "any" : list(e.branches),
                list(e.tags),
                e.waitTimerMinutes > 0 ? `${e.waitTimerMinutes}m` : "-",
                time(e.updatedAt),
              ]),
            ),
      );
    },
  );

  apiOptions(
    envs
      .command("set")
      .description("create an environment or change its rules (options left out stay as they are)")
      .argument("<repo>")
      .argument("<name>")
      .option(
        "--reviewer <user>",
        "a user who may approve (repeatable, at most 6; replaces the list)",
        collect,
        [],
      )
      .option("--no-reviewers", "no named reviewers")
      .option("--reviewer-role <role>", "anyone with this role on the repository may approve too (or none)")
      .option("--branch <pattern>", "a branch allowed to deploy (repeatable, * and **)", collect, [])
      .option("--tag <pattern>", "a tag allowed to deploy (repeatable)", collect, [])
      .option("--any-ref", "every branch and tag may deploy")
      .option("--wait-timer <minutes>", "minutes to wait after approval (0 to 43200)"),
  ).action(async (repo: string, name: string, opts: SetOptions) => {
    const body = rulesOf(opts);
    const client = await connect(opts, io);
    const e = await putEnvironment(client, await repoId(client, repo), name, body);
    if (opts.json) return printJson(io, e);
    io.stdout.write(`Environment ${e.name} of ${repo} set.\n`);
  });

  apiOptions(
    envs
      .command("remove")
      .description("delete an environment with its secrets and variables")
      .argument("<repo>")
      .argument("<name>"),
  ).action(async (repo: string, name: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    await removeEnvironment(client, await repoId(client, repo), name);
    io.stdout.write(`Environment ${name.toLowerCase()} of ${repo} removed.\n`);
  });
}

interface ReviewOptions extends CommonOptions {
  env: string[];
  comment?: string;
}

/** `runs deployments|approve|reject`, on the `runs` command. */
export function registerDeploymentCommands(runs: Command, io: CliIo): void {
  apiOptions(
    runs.command("deployments").description("a run's deployments to protected environments").argument("<id>"),
  ).action(async (id: string, opts: CommonOptions) => {
    const all = await listDeployments(await connect(opts, io), idArgument(id, "run id"));
    if (opts.json) return printJson(io, all);
    io.stdout.write(
      all.length === 0
        ? "No deployments wait for review.\n"
        : table(
            ["JOB", "ENVIRONMENT", "STATE", "REVIEWER", "WHO MAY APPROVE"],
            all.map((d) => [d.jobName, d.environment, d.state, d.reviewer ?? "-", d.approvers ?? "-"]),
          ),
    );
  });
  for (const state of ["approved", "rejected"] as const) {
    const verb = state === "approved" ? "approve" : "reject";
    apiOptions(
      runs
        .command(verb)
        .description(
          `${verb} an untrusted run that waits for a maintainer (its commit), or the deployments a run waits for (not a run you triggered)`,
        )
        .argument("<id>")
        .option("--env <name>", "only this environment (repeatable; default: all it waits for)", collect, [])
        .option("--comment <text>", "why (kept in the audit log)"),
    ).action(async (id: string, opts: ReviewOptions) => {
      const runId = idArgument(id, "run id");
      if (opts.comment !== undefined && opts.comment.length > 1000)
        throw new AirlockError(ErrorCode.USAGE, "--comment is longer than 1000 characters");
      const client = await connect(opts, io);
      // An untrusted run waiting for approval is decided first: nothing of it runs before.
      if (opts.env.length === 0 && (await client.getRun(runId)).approval === "required") {
        if (state === "approved") {
          const a = await client.approveRun(runId);
          if (opts.json) return printJson(io, a);
          io.stdout.write(`Run ${runId} approved: its commit may run (started: ${a.started.join(", ")}).\n`);
        } else {
          const a = await client.rejectRun(runId);
          if (opts.json) return printJson(io, a);
          io.stdout.write(`Run ${runId} rejected: it will not run.\n`);
        }
        return;
      }
      const r = await reviewDeployments(client, runId, {
        state,
        ...(opts.env.length > 0 ? { environments: opts.env } : {}),
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      });
      if (opts.json) return printJson(io, r);
      for (const e of r.environments)
        io.stdout.write(
          `Run ${runId}: deployment to ${e.name} ${state} (${e.jobs.map((j) => j.name).join(", ")}).\n`,
        );
    });
  }
}
