// `airlock logs <jobId>` or `airlock logs <runId> <job>` [--attempt N] [--follow | --download]
// [--timestamps]: a job's log as stored so far, followed live over SSE until the job completes,
// or downloaded raw (`> file`). A job of a run is named by its id, key, workflow job id or name;
// --attempt picks the run attempt (default the latest; with a job id: the same job in attempt N).
// --timestamps prefixes each line with its time as GitHub's raw logs do (ISO 8601 UTC).
// With --follow a queued job says why it waits, and the command's exit code is the job's
// conclusion: 0 for success (or skipped), 1 for failure or cancelled, said on stderr.
// With --json and --follow, one JSON object per line: each chunk, each wait reason
// (`{ "wait": reason }`), then `{ "end": true, "conclusion": ... }`.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { timestampLines } from "../../orchestrator/views/logs.js";
import { followLog, type ApiClient, type Job } from "../api/index.js";
import {
  apiOptions,
  connect,
  failOnProblems,
  idArgument,
  intOption,
  type CliIo,
  type CommonOptions,
  type Writer,
} from "./context.js";

/** Writes and, when the writer is a stream that is full (a slow pipe), waits for it to drain. */
async function writeAll(w: Writer, chunk: Uint8Array): Promise<void> {
  const stream = w as Writer & { once?: (e: "drain", f: () => void) => unknown };
  if (w.write(chunk) === false && typeof stream.once === "function") {
    await new Promise<void>((resolve) => stream.once?.("drain", resolve));
  }
}

interface LogsOptions extends CommonOptions {
  follow?: boolean;
  download?: boolean;
  timestamps?: boolean;
  attempt?: string;
}

/** The job of a run attempt that `ref` names: its id, key, workflow job id or name (exactly one). */
export function pickJob(jobs: Job[], ref: string, where: string): Job {
  const byId = /^\d+$/.test(ref) ? jobs.filter((j) => j.id === Number(ref)) : [];
  const found =
    byId.length > 0 ? byId : jobs.filter((j) => j.key === ref || j.jobId === ref || j.name === ref);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const names = jobs.map((j) => `${j.id} (${j.name})`).join(", ");
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `no job '${ref}' in ${where}${names ? `; its jobs: ${names}` : ""}`,
    );
  }
  const names = found.map((j) => `${j.id} (${j.name})`).join(", ");
  throw new AirlockError(ErrorCode.USAGE, `'${ref}' names several jobs of ${where}: ${names}; give a job id`);
}

/** The job id whose log to print. */
async function resolveJob(
  client: ApiClient,
  id: number,
  job: string | undefined,
  attempt?: number,
): Promise<number> {
  if (job !== undefined) {
    const run = await client.getRun(id, attempt);
    return pickJob(run.jobs, job, `run ${id} attempt ${run.shownAttempt}`).id;
  }
  if (attempt === undefined) return id;
  const j = await client.getJob(id);
  if (j.runAttempt === attempt) return id;
  const run = await client.getRun(j.runId, attempt);
  const same = run.jobs.find((x) => x.key === j.key);
  if (!same)
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `job ${id} (${j.name}) did not run in attempt ${attempt} of run ${j.runId}`,
    );
  return same.id;
}

export function registerLogs(program: Command, io: CliIo): void {
  apiOptions(
    program
      .command("logs")
      .description("print a job's log: `logs <job id>` or `logs <run id> <job>` (id, key, job id or name)")
      .argument("<id>", "a job id, or a run id when a job is given")
      .argument("[job]", "a job of the run: its id, key, workflow job id or name")
      .option("-f, --follow", "keep printing new output until the job completes; exit 1 unless it succeeded")
      .option("--download", "the raw log file, for `> file`")
      .option("-t, --timestamps", "prefix each line with its time (ISO 8601 UTC)")
      .option("--attempt <n>", "the run attempt (default the latest)"),
  ).action(async (id: string, job: string | undefined, opts: LogsOptions) => {
    const problems: string[] = [];
    const attempt = intOption(opts.attempt, "--attempt", 1, problems);
    if (opts.follow && opts.download) problems.push("--follow and --download cannot be used together");
    failOnProblems(problems);
    const first = idArgument(id, job === undefined ? "job id" : "run id");
    const client = await connect(opts, io);
    const jobId = await resolveJob(client, first, job, attempt);
    if (!opts.follow) {
      // Bytes are copied as they arrive: a 50 MiB log is never held whole in memory.
      const reader = (
        await client.jobLog(jobId, opts.download === true, opts.timestamps === true)
      ).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) await writeAll(io.stdout, r.value);
      return;
    }
    // Ctrl-C keeps its default meaning (exit 130): there is nothing to clean up on this side.
    let shownAttempt: number | undefined;
    const result = await followLog(client, jobId, {
      reconnectDelayMs: io.reconnectDelayMs,
      onChunk(chunk) {
        if (opts.json) {
          io.stdout.write(JSON.stringify(chunk) + "\n");
          return;
        }
        if (shownAttempt !== undefined && chunk.attempt !== shownAttempt) {
          io.stderr.write(`--- attempt ${chunk.attempt} ---\n`);
        }
        shownAttempt = chunk.attempt;
        io.stdout.write(opts.timestamps && chunk.time ? timestampLines(chunk.data, chunk.time) : chunk.data);
      },
      onWait(reason) {
        if (opts.json) io.stdout.write(JSON.stringify({ wait: reason }) + "\n");
        else io.stderr.write(`Job ${jobId} is queued: ${reason}\n`);
      },
      onReconnect() {
        if (!opts.json) io.stderr.write("airlock: log stream dropped; reconnecting\n");
      },
    });
    const c = result.conclusion;
    if (opts.json) io.stdout.write(JSON.stringify({ end: true, conclusion: c }) + "\n");
    if (c === "failure" || c === "cancelled")
      throw new AirlockError(
        ErrorCode.RUN_FAILED,
        c === "failure" ? `job ${jobId} failed` : `job ${jobId} was cancelled`,
      );
    if (!opts.json) io.stderr.write(`Job ${jobId} completed${c ? ` (${c})` : ""}.\n`);
  });
}
