// Runs one process of a step inside the machine with fresh environment files, streams its output
// through the workflow-command processor, then applies the files (GITHUB_ENV, GITHUB_PATH,
// GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY) — also after a failure, like actions/runner.
import path from "node:path/posix";
import { isAirlockError } from "../errors/index.js";
import type { ExecHandle, ExecRequest } from "../provisioners/types.js";
import { processEnv, type EnvFilePaths, type StepIdentity } from "./contexts.js";
import { iterateKeyValueFile, parsePathFile, type KeyValue } from "./envfiles.js";
import { protectValues } from "./injection.js";
import { OutputProcessor, type CommandTarget } from "./output.js";
import { checkLimits } from "./limits.js";
import { runProcess } from "./process.js";
import { SANE_PATH } from "./contexts.js";
import { cleanText } from "./text.js";
import type { JobRun } from "./state.js";

/** GitHub refuses step summaries above 1 MiB. */
export const SUMMARY_LIMIT = 1024 * 1024;

export interface Execution extends CommandTarget {
  /** Kills the process: step timeout, job timeout or cancellation. */
  signal: AbortSignal;
  /** The step's `env` (expression context), already evaluated. */
  env: Record<string, string>;
  /** Only the step's own `env:` block, evaluated (inherited by a composite action's steps). */
  ownEnv: Record<string, string>;
  id: StepIdentity;
  /** Set once a process consumed `id.files`. */
  filesUsed?: boolean;
  /**
   * Values of an untrusted run's script expressions: one holding a line break stays one value in
   * the environment files (src/runner/injection.ts protectValues).
   */
  protect?: readonly string[];
}

export interface ExecOutcome {
  ok: boolean;
  /** The process was killed through the execution's signal. */
  aborted: boolean;
}

export async function createFiles(run: JobRun): Promise<EnvFilePaths> {
  const t = run.token();
  const f = (prefix: string): string => path.join(run.fileCommandDir, `${prefix}${t}`);
  const files: EnvFilePaths = {
    env: f("set_env_"),
    output: f("set_output_"),
    path: f("add_path_"),
    state: f("save_state_"),
    summary: f("step_summary_"),
  };
  await Promise.all(Object.values(files).map((p) => run.machine.writeFile(p, "")));
  return files;
}

/** Resolves a program name on `pathValue` inside the machine (cached); null when absent. */
export async function which(run: JobRun, program: string, pathValue: string): Promise<string | null> {
  if (program.includes("/")) return program;
  const key = `${pathValue}\0${program}`;
  const known = run.programs.get(key);
  if (known !== undefined) return known;
  let found = "";
  const probe = await runProcess(
    run.machine,
    {
      argv: ["/bin/sh", "-c", 'command -v -- "$1"', "sh", program],
      env: { PATH: pathValue },
      cwd: run.machine.paths.workspace,
    },
    new AbortController().signal,
    (stream, line) => {
      if (stream === "stdout" && found === "") found = line.trim();
    },
  );
  const result = probe.exitCode === 0 && found.startsWith("/") ? found : null;
  // Only hits are remembered: a later step may install the program into a folder already on PATH.
  if (result !== null) run.programs.set(key, result);
  return result;
}

/** The PATH a step's processes get (GITHUB_PATH additions first). */
export function stepPath(run: JobRun, env: Record<string, string>): string {
  return [...[...run.prependPath].reverse(), env.PATH ?? SANE_PATH].join(":");
}

export async function execute(
  x: Execution,
  argv: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
  /** Starts the process another way (a Docker action's container, src/runner/docker.ts). */
  launch?: (req: ExecRequest) => ExecHandle,
): Promise<ExecOutcome> {
  const { run } = x;
  // Files are fresh per process; a step may have created them already so that github.output & co.
  // are visible to its expressions (as on GitHub). A composite's steps each get their own.
  const files = x.id.files && !x.filesUsed ? x.id.files : await createFiles(run);
  x.filesUsed = true;
  const id: StepIdentity = { ...x.id, files };
  const out = new OutputProcessor(x);
  const result = await runProcess(
    run.machine,
    { argv, env: processEnv(run, x.env, id, extraEnv, launch === undefined), cwd },
    x.signal,
    (stream, line, cut) => out.line(stream, line, cut),
    run.deps.flow,
    launch,
  );
  await applyFiles(x, files);
  if (result.startError !== undefined) {
    if (await checkLimits(run, x.ref)) return { ok: false, aborted: false };
    run.annotate(x.ref, "error", `Cannot start ${argv[0] ?? "process"}: ${result.startError}`);
    return { ok: false, aborted: false };
  }
  if (result.aborted) return { ok: false, aborted: true };
  // Killed for going over a limit: that one line says why, not "killed by SIGKILL".
  if (result.exitCode !== 0 && (await checkLimits(run, x.ref))) return { ok: false, aborted: false };
  if (result.exitCode !== 0) {
    const why =
      result.exitCode === null
        ? `was killed by ${result.signal ?? "a signal"}`
        : `completed with exit code ${result.exitCode}`;
    run.annotate(x.ref, "error", `Process ${why}.`);
    return { ok: false, aborted: false };
  }
  return { ok: !x.failed, aborted: false };
}

/** Env files are read whole on the host: a job must not be able to make us read gigabytes. */
const ENV_FILE_LIMIT = 16 * 1024 * 1024;

async function readText(run: JobRun, file: string): Promise<string> {
  // NUL and invalid UTF-8 become U+FFFD: values go into process environments, JSON and the database.
  return cleanText((await run.machine.readFile(file, { maxBytes: ENV_FILE_LIMIT }))?.toString("utf8") ?? "");
}

async function applyFiles(x: Execution, files: EnvFilePaths): Promise<void> {
  const { run } = x;
  const kv = async (file: string, label: string, apply: (p: KeyValue) => void): Promise<void> => {
    try {
      const safe = protectValues(await readText(run, file), x.protect ?? []);
      for (const p of iterateKeyValueFile(safe.text, label))
        apply({ name: safe.restore(p.name), value: safe.restore(p.value) });
    } catch (err) {
      run.annotate(x.ref, "error", `Unable to process file command '${label}' successfully.`);
      run.annotate(x.ref, "error", isAirlockError(err) ? err.message : String(err));
      x.failed = true;
    }
  };
  await kv(files.env, "env", ({ name, value }) => {
    if (name.toUpperCase() === "NODE_OPTIONS") {
      run.annotate(x.ref, "error", "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
      return;
    }
    run.env[name] = value;
  });
  await kv(files.output, "output", ({ name, value }) => {
    x.outputs[name] = value;
  });
  await kv(files.state, "state", ({ name, value }) => {
    x.state[name] = value;
  });
  try {
    const safe = protectValues(await readText(run, files.path), x.protect ?? []);
    for (const dir of parsePathFile(safe.text).map((d) => safe.restore(d))) {
      run.prependPath = run.prependPath.filter((d) => d !== dir);
      run.prependPath.push(dir);
    }
  } catch (err) {
    run.annotate(x.ref, "error", `Unable to process file command 'path' successfully: ${String(err)}`);
    x.failed = true;
  }
  let summary: Buffer | undefined;
  let size = 0;
  try {
    summary = await run.machine.readFile(files.summary, { maxBytes: SUMMARY_LIMIT });
    size = summary?.length ?? 0;
  } catch (err) {
    // Too large: not read at all (a job can make the file as large as it likes).
    if (isAirlockError(err, "MACHINE_FILE_TOO_LARGE")) size = (err.details as { size: number }).size;
  }
  if (size > 0) {
    if (size > SUMMARY_LIMIT || !summary) {
      run.annotate(
        x.ref,
        "error",
        `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${SUMMARY_LIMIT / 1024}k, got ${Math.ceil(size / 1024)}k.`,
      );
    } else {
      const markdown = cleanText(summary.toString("utf8"))
        .split("\n")
        .map((l) => run.masker.mask(l))
        .join("\n");
      run.summaries.push({ step: x.ref, markdown });
    }
  }
}
