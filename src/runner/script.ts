// `run:` steps: the script is written to a file in RUNNER_TEMP and started with the resolved shell
// (argv, no shell string in between), in working-directory (step > defaults.run > workspace).
import path from "node:path/posix";
import { evaluateToString, type Contexts, type EvalHost } from "../expressions/index.js";
import { isAirlockError } from "../errors/index.js";
import { resolveWorkdir } from "./contexts.js";
import { execute, stepPath, which, type ExecOutcome, type Execution } from "./execute.js";
import { buildArgv, shellTemplate } from "./shell.js";
import type { Scope } from "./state.js";
import type { StepTemplate } from "../workflow/model.js";

export async function runScript(
  x: Execution,
  scope: Scope,
  step: StepTemplate,
  ctx: Contexts,
  host: EvalHost,
): Promise<ExecOutcome> {
  const { run } = x;
  // Composite actions do not inherit the workflow's defaults.run (as on GitHub).
  const defaults = scope.depth === 0 ? run.job.defaults : {};
  const script = evaluateToString(step.run, ctx, host);
  const shell = step.shell !== undefined ? evaluateToString(step.shell, ctx, host) : defaults.shell;
  const wd =
    step.workingDirectory !== undefined
      ? evaluateToString(step.workingDirectory, ctx, host)
      : defaults.workingDirectory;
  let template;
  try {
    template = shellTemplate(shell);
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    run.annotate(x.ref, "error", err.message);
    return { ok: false, aborted: false };
  }
  const searchPath = stepPath(run, x.env);
  let program: string | undefined;
  for (const p of template.programs) {
    const found = await which(run, p, searchPath);
    if (found) {
      program = found;
      break;
    }
  }
  if (program === undefined) {
    run.annotate(x.ref, "error", `${template.programs.join(" / ")}: command not found in the machine`);
    return { ok: false, aborted: false };
  }
  const scriptPath = path.join(run.machine.paths.temp, `${run.token()}${template.ext}`);
  await run.machine.writeFile(scriptPath, script);
  const argv = buildArgv(program, template, scriptPath);
  run.log(x.ref, "system", "group-start", `Run ${firstLine(script)}`);
  for (const line of script.replace(/\n$/, "").split("\n")) run.log(x.ref, "system", "line", line);
  run.log(x.ref, "system", "line", `shell: ${[program, ...template.args].join(" ")}`);
  run.log(x.ref, "system", "group-end", "");
  return execute(x, argv, resolveWorkdir(run, wd));
}

export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}
