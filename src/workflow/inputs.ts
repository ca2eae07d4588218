// dispatchInputs: the `inputs` context of a workflow_dispatch / workflow_call run from the
// values given on the command line (all strings): defaults, required, type coercion.
import type { InputDef, Workflow } from "./model.js";

function coerce(name: string, def: InputDef, value: unknown, problems: string[]): unknown {
  switch (def.type) {
    case "boolean": {
      if (typeof value === "boolean") return value;
      const s = String(value).trim().toLowerCase();
      if (s === "true" || s === "false") return s === "true";
      problems.push(`Input '${name}' must be a boolean (true or false), got '${String(value)}'`);
      return undefined;
    }
    case "number": {
      if (typeof value === "number") return value;
      const s = String(value).trim();
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) {
        problems.push(`Input '${name}' must be a number, got '${s}'`);
        return undefined;
      }
      return n;
    }
    case "choice": {
      const s = String(value);
      if (def.options !== undefined && !def.options.includes(s)) {
        problems.push(`Input '${name}' must be one of ${def.options.join(", ")}, got '${s}'`);
        return undefined;
      }
      return s;
    }
    default:
      return String(value);
  }
}

export function dispatchInputs(
  workflow: Workflow,
  given: Record<string, string>,
): { inputs: Record<string, unknown>; problems: string[] } {
  const defs: Record<string, InputDef> = {
    ...(workflow.on.workflow_call?.inputs ?? {}),
    ...(workflow.on.workflow_dispatch?.inputs ?? {}),
  };
  const inputs: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of Object.keys(given)) {
    if (!(name in defs)) problems.push(`Unexpected input '${name}'`);
  }
  for (const [name, def] of Object.entries(defs)) {
    const value = Object.hasOwn(given, name) ? given[name] : def.default;
    if (value === undefined || value === null) {
      if (def.required) problems.push(`Input '${name}' is required`);
      // GitHub gives unset inputs their type's empty value.
      if (def.type === "boolean") inputs[name] = false;
      else if (def.type !== "number") inputs[name] = "";
      continue;
    }
    // A default may be an expression (workflow_call): left for the evaluator.
    if (typeof value === "string" && value.includes("${{") && !Object.hasOwn(given, name)) {
      inputs[name] = value;
      continue;
    }
    const v = coerce(name, def, value, problems);
    if (v !== undefined) inputs[name] = v;
  }
  return { inputs, problems };
}
