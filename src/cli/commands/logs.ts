// `airlock logs <jobId> [--follow | --download]`: a job's log as stored so far, followed live
// over SSE until the job completes, or downloaded raw (`> file`). With --json and --follow,
// one JSON object per line: each chunk, then `{ "end": true, "conclusion": ... }`.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { followLog } from "../api/index.js";
import { apiOptions, connect, idArgument, type CliIo, type CommonOptions } from "./context.js";

interface LogsOptions extends CommonOptions {
  follow?: boolean;
  download?: boolean;
}

export function registerLogs(program: Command, io: CliIo): void {
  apiOptions(
    program
      .command("logs")
      .description("print a job's log")
      .argument("<jobId>")
      .option("-f, --follow", "keep printing new output until the job completes")
      .option("--download", "the raw log file, for `> file`"),
  ).action(async (id: string, opts: LogsOptions) => {
    const jobId = idArgument(id, "job id");
    if (opts.follow && opts.download) {
      throw new AirlockError(ErrorCode.USAGE, "--follow and --download cannot be used together");
    }
    const client = await connect(opts, io);
    if (!opts.follow) {
      // Bytes are copied as they arrive: a 50 MiB log is never held whole in memory.
      const reader = (await client.jobLog(jobId, opts.download === true)).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) io.stdout.write(r.value);
      return;
    }
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once("SIGINT", onSignal);
    let attempt: number | undefined;
    try {
      const result = await followLog(client, jobId, {
        signal: abort.signal,
        reconnectDelayMs: io.reconnectDelayMs,
        onChunk(chunk) {
          if (opts.json) {
            io.stdout.write(JSON.stringify(chunk) + "\n");
            return;
          }
          if (attempt !== undefined && chunk.attempt !== attempt) {
            io.stderr.write(`--- attempt ${chunk.attempt} ---\n`);
          }
          attempt = chunk.attempt;
          io.stdout.write(chunk.data);
        },
        onReconnect() {
          if (!opts.json) io.stderr.write("airlock: log stream dropped; reconnecting\n");
        },
      });
      if (abort.signal.aborted) return;
      if (opts.json) io.stdout.write(JSON.stringify({ end: true, conclusion: result.conclusion }) + "\n");
      else io.stderr.write(`Job ${jobId} completed${result.conclusion ? ` (${result.conclusion})` : ""}.\n`);
    } finally {
      process.off("SIGINT", onSignal);
    }
  });
}
