// Action inputs: `with:` values (evaluated) merged with the manifest's defaults (evaluated), with
// GitHub's warnings for missing required inputs, unexpected inputs and deprecated inputs.
import { evaluateToString, type Contexts, type EvalHost } from "../expressions/index.js";
import type { JobRun } from "./state.js";
import type { ActionManifest, StepRef } from "./types.js";

export function actionInputs(
  run: JobRun,
  ref: StepRef,
  uses: string,
  manifest: ActionManifest,
  withValues: Record<string, string>,
  ctx: Contexts,
  host: EvalHost,
): Record<string, string> {
  const given = new Map(Object.entries(withValues).map(([k, v]) => [k.toLowerCase(), { k, v }]));
  const out: Record<string, string> = {};
  const declared = Object.keys(manifest.inputs);
  for (const [name, def] of Object.entries(manifest.inputs)) {
    const hit = given.get(name.toLowerCase());
    if (hit) {
      out[name] = hit.v;
      given.delete(name.toLowerCase());
      if (def.deprecationMessage) {
        run.annotate(
          ref,
          "warning",
          `Input '${name}' has been deprecated with message: ${def.deprecationMessage}`,
        );
      }
    } else if (def.default !== undefined) {
      out[name] = evaluateToString(def.default, ctx, host);
    } else {
      if (def.required) run.annotate(ref, "warning", `Input required and not supplied: ${name}`);
      out[name] = "";
    }
  }
  if (given.size > 0) {
    const extra = [...given.values()].map((g) => g.k);
    run.annotate(
      ref,
      "warning",
      `Unexpected input(s) '${extra.join("', '")}', valid inputs are ['${declared.join("', '")}'] (${uses})`,
    );
    for (const { k, v } of given.values()) out[k] = v;
  }
  return out;
}

/** INPUT_<NAME> variables for node actions: upper-cased, spaces become underscores. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = v;
  return env;
}

export function stateEnv(state: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v;
  return env;
}
