// `run:` steps: the script is written to a file in RUNNER_TEMP and started with the resolved shell
// (argv, no shell string in between), in working-directory (step > defaults.run > workspace).
import path from "node:path/posix";
import {
  evaluateExpression,
  evaluateToString,
  scanTemplate,
  toExpressionString,
  type Contexts,
  type EvalHost,
} from "../expressions/index.js";
import { spliceAsEnv } from "./injection.js";
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
  const defaults = scope.depth === 0 ? run.defaults : {};
  const untrusted = run.job.trustTier === "untrusted" && typeof step.run === "string";
  let script = untrusted ? "" : evaluateToString(step.run, ctx, host);
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
  // An untrusted run's expressions reach the script as variables, never as its text.
  let exprEnv: Record<string, string> = {};
  if (untrusted) {
    const spliced = spliceAsEnv(scanTemplate(step.run as string).segments, template.ext === ".sh", (e) =>
      toExpressionString(evaluateExpression(e, ctx, host)),
    );
    if (!spliced) {
      run.annotate(
        x.ref,
        "error",
        "This run is untrusted: expressions in a run script are passed as environment variables, which only sh and bash scripts can use here; move them to the step's env: and read the variables in the script",
      );
      return { ok: false, aborted: false };
    }
    script = spliced.script;
    exprEnv = spliced.env;
    x = { ...x, protect: Object.values(spliced.env) };
  }
  const scriptPath = path.join(run.machine.paths.temp, `${run.token()}${template.ext}`);
  await run.machine.writeFile(scriptPath, script);
  const argv = buildArgv(program, template, scriptPath);
  run.log(x.ref, "system", "group-start", `Run ${firstLine(script)}`);
  for (const line of script.replace(/\n$/, "").split("\n")) run.log(x.ref, "system", "line", line);
  run.log(x.ref, "system", "line", `shell: ${[program, ...template.args].join(" ")}`);
  const passed = Object.keys(exprEnv).length;
  if (passed > 0)
    run.log(
      x.ref,
      "system",
      "line",
      `untrusted run: ${passed} expression value(s) passed as AIRLOCK_EXPR_* variables`,
    );
  run.log(x.ref, "system", "group-end", "");
  return execute(x, argv, resolveWorkdir(run, wd), exprEnv);
}

export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}
