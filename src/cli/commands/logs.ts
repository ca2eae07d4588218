// `airlock logs <jobId> [--follow | --download]`: a job's log as stored so far, followed live
// over SSE until the job completes, or downloaded raw (`> file`). With --json and --follow,
// one JSON object per line: each chunk, then `{ "end": true, "conclusion": ... }`.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { followLog } from "../api/index.js";
import { apiOptions, connect, idArgument, type CliIo, type CommonOptions, type Writer } from "./context.js";

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
      for (let r = await reader.read(); !r.done; r = await reader.read()) await writeAll(io.stdout, r.value);
      return;
    }
    // Ctrl-C keeps its default meaning (exit 130): there is nothing to clean up on this side.
    let attempt: number | undefined;
    const result = await followLog(client, jobId, {
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
    if (opts.json) io.stdout.write(JSON.stringify({ end: true, conclusion: result.conclusion }) + "\n");
    else io.stderr.write(`Job ${jobId} completed${result.conclusion ? ` (${result.conclusion})` : ""}.\n`);
  });
}
