// `airlock artifacts list <run>` and `airlock artifacts download <run> <artifact> [-o file |
// --extract dir]`: a run's artifacts (what its jobs uploaded with actions/upload-artifact), and
// one of them, named by id or name (the newest attempt's of that name). A download is streamed to
// a temporary file beside the target, its SHA-256 computed on the way and compared with the digest
// the server recorded; only a match is renamed into place. `--extract` then unpacks the zip with
// the safe-archive rules (src/artifacts/archive): a refused archive leaves nothing behind.
// `airlock artifacts provenance <run> <artifact> [-o file]`: its provenance as the orchestrator
// signed it, for `airlock verify <zip> <provenance> --key <key.pem>` (offline).
// `airlock artifacts promote <run> <artifact>`: the promotion gate; the repository's policy
// decides (docs/integrity.md), a refusal is one line (ARTIFACT_NOT_PROMOTABLE).
// `airlock artifacts mismatches <run>`: artifact-mismatches.ts.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { extractArchive } from "../../artifacts/archive/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { promoteArtifact, type RunArtifact } from "../api/index.js";
import { apiOptions, connect, idArgument, printJson, type CliIo, type CommonOptions } from "./context.js";
import { registerArtifactMismatches } from "./artifact-mismatches.js";
import { checkOutputPath, outputError, writeNewFile } from "../output-file.js";
import { table } from "./table.js";

interface DownloadOptions extends CommonOptions {
  output?: string;
  extract?: string;
}

const size = (n: number): string =>
  n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;

export function artifactsTable(items: RunArtifact[]): string {
  return table(
    ["ID", "NAME", "SIZE", "STATUS", "ATTEMPT", "JOB", "TRUST", "SHA256", "EXPIRES", "PROMOTED"],
    items.map((a) => [
      a.id,
      a.name,
      size(a.size),
      a.status,
      a.runAttempt,
      a.jobId,
      a.trustTier,
      a.sha256.slice(0, 16),
      a.expiresAt.slice(0, 10),
      a.promotedAt ? `${a.promotedAt.slice(0, 10)} by ${a.promotedBy ?? "?"}` : "-",
    ]),
  );
}

/** The artifact `ref` names: its id, or its name (the newest attempt's of that name). */
export function pickArtifact(items: RunArtifact[], ref: string, runId: number): RunArtifact {
  const found = /^\d+$/.test(ref) ? items.find((a) => a.id === Number(ref)) : undefined;
  const byName = items.filter((a) => a.name === ref).sort((a, b) => b.runAttempt - a.runAttempt)[0];
  const a = found ?? byName;
  if (!a) {
    const names = [...new Set(items.map((i) => i.name))].join(", ");
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `run ${runId} has no artifact '${ref}'${names ? `; its artifacts: ${names}` : ""}`,
    );
  }
  return a;
}

export function registerArtifacts(program: Command, io: CliIo): void {
  const artifacts = program
    .command("artifacts")
    .description("the artifacts a run's jobs uploaded (actions/upload-artifact)");

  apiOptions(
    artifacts.command("list").description("list a run's artifacts").argument("<run>", "run id"),
  ).action(async (run: string, opts: CommonOptions) => {
    const runId = idArgument(run, "the run");
    const items = await (await connect(opts, io)).runArtifacts(runId);
    if (opts.json) printJson(io, items);
    else io.stdout.write(items.length === 0 ? `Run ${runId} has no artifacts.\n` : artifactsTable(items));
  });

  apiOptions(
    artifacts
      .command("download")
      .description("download an artifact (its zip), checked against the digest the server recorded")
      .argument("<run>", "run id")
      .argument("<artifact>", "artifact id or name")
      .option("-o, --output <file>", "where to write the zip (default: <name>.zip here)")
      .option("--extract <dir>", "unpack it into this new folder instead (safe-archive rules)"),
  ).action(async (run: string, ref: string, opts: DownloadOptions) => {
    const runId = idArgument(run, "the run");
    if (opts.output !== undefined && opts.extract !== undefined)
      throw new AirlockError(ErrorCode.USAGE, "give either --output or --extract, not both");
    const client = await connect(opts, io);
    const a = pickArtifact(await client.runArtifacts(runId), ref, runId);
    const target = path.resolve(opts.extract ?? opts.output ?? `${a.name.replace(/[^\w.-]/g, "_")}.zip`);
    const temp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${randomBytes(4).toString("hex")}.part`,
    );
    const flag = opts.extract !== undefined ? "--extract" : "--output";
    await checkOutputPath(target, flag, opts.extract !== undefined);
    const got = await client.downloadArtifact(runId, a.id);
    const hash = createHash("sha256");
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(got.body as never),
        count,
        createWriteStream(temp, { flags: "wx", mode: 0o600 }),
      ).catch((err: unknown) => {
        throw outputError(err, target, flag);
      });
      const digest = hash.digest("hex");
      if (digest !== a.sha256 || (got.sha256 !== "" && digest !== got.sha256))
        throw new AirlockError(
          ErrorCode.ARTIFACT_DIGEST_MISMATCH,
          `artifact ${a.id} came back with sha256 ${digest} (${bytes} bytes), not the recorded ${a.sha256}: nothing was written`,
        );
      if (opts.extract !== undefined) {
        const entries = await extractArchive(temp, target);
        await rm(temp, { force: true });
        if (opts.json) printJson(io, { artifact: a, extractedTo: target, files: entries.length });
        else
          io.stdout.write(
            `Artifact ${a.name} (${a.id}): ${entries.length} entries unpacked into ${target}\n`,
          );
        return;
      }
      await rename(temp, target).catch((err: unknown) => {
        throw outputError(err, target, flag);
      });
      if (opts.json) printJson(io, { artifact: a, file: target, sha256: digest });
      else
        io.stdout.write(
          `Artifact ${a.name} (${a.id}): ${size(bytes)} written to ${target}, sha256 ${digest}\n`,
        );
    } finally {
      await rm(temp, { force: true });
    }
  });

  apiOptions(
    artifacts
      .command("provenance")
      .description("an artifact's provenance as the orchestrator signed it (for `airlock verify`)")
      .argument("<run>", "run id")
      .argument("<artifact>", "artifact id or name")
      .option("-o, --output <file>", "write it to this file (default: standard output)"),
  ).action(async (run: string, ref: string, opts: { output?: string } & CommonOptions) => {
    const runId = idArgument(run, "the run");
    const client = await connect(opts, io);
    const a = pickArtifact(await client.runArtifacts(runId), ref, runId);
    const file = await client.artifactProvenance(runId, a.id);
    if (opts.output === undefined) {
      io.stdout.write(file);
      return;
    }
    await writeNewFile(opts.output, file, "--output");
    io.stdout.write(`Provenance of ${a.name} (${a.id}, ${a.status}) written to ${opts.output}\n`);
  });

  registerArtifactMismatches(artifacts, io);

  apiOptions(
    artifacts
      .command("promote")
      .description("promote an artifact (mark it releasable) if the repository's policy allows it")
      .argument("<run>", "run id")
      .argument("<artifact>", "artifact id or name"),
  ).action(async (run: string, ref: string, opts: CommonOptions) => {
    const runId = idArgument(run, "the run");
    const client = await connect(opts, io);
    const a = pickArtifact(await client.runArtifacts(runId), ref, runId);
    const p = await promoteArtifact(client, runId, a.id);
    if (opts.json) printJson(io, p);
    else
      io.stdout.write(
        `Artifact ${p.name} (${p.id}, ${p.status}) promoted${p.promotedBy ? ` by ${p.promotedBy}` : ""} at ${p.promotedAt ?? "?"}\n`,
      );
  });
}
