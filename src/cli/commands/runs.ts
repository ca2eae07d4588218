// `airlock runs list|show|trigger|cancel|rerun`. `trigger --wait` follows the runs until they
// complete and fails (RUN_FAILED, exit 1) unless every one concluded success. `rerun [--failed]`
// starts the run's next attempt; `show --attempt N` lists an earlier attempt's jobs.
import type { Command } from "commander";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import type { ApiClient, RunDetail } from "../api/index.js";
import { parseKeyValues } from "../args.js";
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
import { jobWhere, runDetail, runLabel, runsTable } from "./runs-view.js";
import { status } from "./table.js";

interface ListOptions extends CommonOptions {
  repo?: string;
  state?: string;
  limit?: string;
  workflow?: string;
  branch?: string;
  event?: string;
  status?: string;
  actor?: string;
  before?: string;
}

interface TriggerOptions extends CommonOptions {
  ref?: string;
  commit?: string;
  event?: string;
  input: string[];
  wait?: boolean;
}

/** Polls in a row that may fail to reach the server (it may be restarting) before giving up. */
const MAX_UNREACHABLE_POLLS = 30;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitForRuns(
  client: ApiClient,
  ids: number[],
  io: CliIo,
  quiet: boolean,
): Promise<RunDetail[]> {
  const shown = new Map<number, string>();
  const done = new Map<number, RunDetail>();
  let unreachable = 0;
  for (;;) {
    for (const id of ids) {
      if (done.has(id)) continue;
      let run: RunDetail;
      try {
        run = await client.getRun(id);
        unreachable = 0;
      } catch (err) {
        if (!isAirlockError(err, ErrorCode.SERVER_UNREACHABLE) || ++unreachable > MAX_UNREACHABLE_POLLS)
          throw err;
        continue;
      }
      for (const j of run.jobs) {
        const line = `${status(j.state, j.conclusion)} ${jobWhere(j)}`.trim();
        if (quiet || shown.get(j.id) === line) continue;
        shown.set(j.id, line);
        io.stderr.write(`run ${run.id} · ${j.name}: ${line}\n`);
      }
      if (run.state === "completed") done.set(id, run);
    }
    if (done.size === ids.length) return ids.map((id) => done.get(id) as RunDetail);
    await sleep(io.pollIntervalMs);
  }
}

export function registerRuns(program: Command, io: CliIo): Command {
  const runs = program.command("runs").description("workflow runs");

  apiOptions(
    runs
      .command("list")
      .description("list recent runs")
      .option("--repo <repo>", "only runs of this repository (id or owner/repo)")
      .option("--state <state>", "only runs in this state (queued, running, completed)")
      .option("--limit <n>", "at most N runs (server default 50)")
      .option("--workflow <workflow>", "only runs of this workflow (file, its base name, or name)")
      .option("--branch <branch>", "only runs of this branch (or full ref)")
      .option("--event <event>", "only runs triggered by this event (push, pull_request, ...)")
      .option(
        "--status <status>",
        "queued, running, in_progress, completed, success, failure, cancelled or action_required",
      )
      .option("--actor <actor>", "only runs of this actor")
      .option("--before <id>", "only runs older than this run id (the next page)"),
  ).action(async (opts: ListOptions) => {
    const problems: string[] = [];
    const limit = intOption(opts.limit, "--limit", 1, problems);
    const before = intOption(opts.before, "--before", 1, problems);
    failOnProblems(problems);
    const client = await connect(opts, io);
    const repo = opts.repo
      ? await findByRef(opts.repo, () => client.listRepositories(), "repository")
      : undefined;
    const list = await client.listRuns({
      ...(repo ? { repository: repo.id } : {}),
      ...(opts.state ? { state: opts.state } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(before !== undefined ? { before } : {}),
      ...(opts.workflow !== undefined ? { workflow: opts.workflow } : {}),
      ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
      ...(opts.event !== undefined ? { event: opts.event } : {}),
      ...(opts.status !== undefined ? { status: opts.status } : {}),
      ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
    });
    if (opts.json) printJson(io, list);
    else io.stdout.write(list.length === 0 ? "No runs.\n" : runsTable(list));
  });

  apiOptions(
    runs
      .command("show")
      .description("a run with its attempts, and the jobs and steps of one attempt")
      .argument("<id>")
      .option("--attempt <n>", "the jobs of this attempt (default the latest)"),
  ).action(async (id: string, opts: CommonOptions & { attempt?: string }) => {
    const problems: string[] = [];
    const attempt = intOption(opts.attempt, "--attempt", 1, problems);
    failOnProblems(problems);
    const runId = idArgument(id, "run id");
    const run = await (await connect(opts, io)).getRun(runId, attempt);
    if (opts.json) printJson(io, run);
    else io.stdout.write(runDetail(run));
  });

  apiOptions(
    runs
      .command("trigger")
      .description("run a repository's workflows now")
      .argument("<repo>", "id or owner/repo")
      .option("--ref <ref>", "branch, tag or full ref (default: the repository's default branch)")
      .option("--commit <sha>", "exact commit to run (default: the ref's head)")
      .option("--event <event>", "event name the workflows see (default push)")
      .option("--input <name=value>", "workflow_dispatch input (repeatable)", collect, [])
      .option("--wait", "follow the runs until they complete; exit 0 only if all succeed"),
  ).action(async (ref: string, opts: TriggerOptions) => {
    const inputs = parseKeyValues(opts.input, "--input");
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const { runs: started } = await client.triggerRun(repo.id, {
      ...(opts.ref ? { ref: opts.ref } : {}),
      ...(opts.commit ? { commit: opts.commit } : {}),
      ...(opts.event ? { event: opts.event } : {}),
      ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
    });
    if (!opts.wait) {
      if (opts.json) printJson(io, { runs: started });
      else if (started.length === 0) io.stdout.write(`No workflow of ${repo.name} runs on this event.\n`);
      else
        for (const r of started)
          io.stdout.write(`Run ${r.id} ${runLabel(r)} ${status(r.state, r.conclusion)}: ${r.url}\n`);
      return;
    }
    if (!opts.json)
      for (const r of started) io.stderr.write(`Run ${r.id} triggered; waiting for it to complete\n`);
    const final = await waitForRuns(
      client,
      started.map((r) => r.id),
      io,
      opts.json === true,
    );
    if (opts.json) printJson(io, { runs: final });
    else if (final.length === 0) io.stdout.write(`No workflow of ${repo.name} runs on this event.\n`);
    else io.stdout.write(final.map(runDetail).join("\n"));
    const failed = final.filter((r) => r.conclusion !== "success");
    if (failed.length > 0) {
      throw new AirlockError(
        ErrorCode.RUN_FAILED,
        failed.map((r) => `run ${r.id} concluded ${r.conclusion ?? "without a conclusion"}`).join("; "),
      );
    }
  });

  apiOptions(runs.command("cancel").description("cancel a run (its machines stop)").argument("<id>")).action(
    async (id: string, opts: CommonOptions) => {
      const runId = idArgument(id, "run id");
      await (await connect(opts, io)).cancelRun(runId);
      if (opts.json) printJson(io, { ok: true, id: runId });
      else io.stdout.write(`Run ${runId}: cancel requested.\n`);
    },
  );

  apiOptions(
    runs
      .command("rerun")
      .description("re-run a finished run as its next attempt (all jobs, or --failed)")
      .argument("<id>")
      .option("--failed", "only the failed and cancelled jobs and the jobs that need them")
      .option("--job <job id>", "only this job (the workflow's job id) and the jobs that need it"),
  ).action(async (id: string, opts: CommonOptions & { failed?: boolean; job?: string }) => {
    const runId = idArgument(id, "run id");
    if (opts.failed && opts.job !== undefined)
      throw new AirlockError(ErrorCode.USAGE, "--failed and --job cannot be used together");
    const run = await (
      await connect(opts, io)
    ).rerunRun(runId, {
      failedOnly: opts.failed === true,
      ...(opts.job !== undefined ? { job: opts.job } : {}),
    });
    if (opts.json) printJson(io, run);
    else
      io.stdout.write(
        `Run ${run.id} ${runLabel(run)} attempt ${run.attempt} ${status(run.state, run.conclusion)} ` +
          `(re-run of ${opts.job !== undefined ? `job ${opts.job}` : opts.failed ? "failed jobs" : "all jobs"}): ${run.url}\n`,
      );
  });
  return runs;
}
