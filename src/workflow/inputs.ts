// dispatchInputs: the `inputs` context of a workflow_dispatch / workflow_call run from the
// values given (command line, API, event payload): defaults, required, type coercion.
// resolveDispatch: the same for a workflow_dispatch run as GitHub fills it, where the event
// payload's `inputs` and explicitly given values meet (the CLI's -e and --input, the server's
// manual trigger), with `github.event.inputs` as strings.
import type { InputDef, Workflow } from "./model.js";

/** A given value in a one-line message: quoted, control characters escaped, bounded. */
function quote(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function coerce(name: string, def: InputDef, value: unknown, problems: string[]): unknown {
  switch (def.type) {
    case "boolean": {
      if (typeof value === "boolean") return value;
      const s = String(value).trim().toLowerCase();
      if (s === "true" || s === "false") return s === "true";
      problems.push(`Input '${name}' must be a boolean (true or false), got ${quote(value)}`);
      return undefined;
    }
    case "number": {
      if (typeof value === "number") return value;
      const s = String(value).trim();
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) {
        problems.push(`Input '${name}' must be a number, got ${quote(s)}`);
        return undefined;
      }
      return n;
    }
    case "choice": {
      const s = String(value);
      if (def.options !== undefined && !def.options.includes(s)) {
        problems.push(`Input '${name}' must be one of ${def.options.join(", ")}, got ${quote(s)}`);
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
  given: Record<string, unknown>,
): { inputs: Record<string, unknown>; problems: string[] } {
  const defs: Record<string, InputDef> = {
    ...(workflow.on.workflow_call?.inputs ?? {}),
    ...(workflow.on.workflow_dispatch?.inputs ?? {}),
  };
  const inputs: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(defs, name)) problems.push(`Unexpected input ${quote(name)}`);
  }
  for (const [name, def] of Object.entries(defs)) {
    const value = Object.hasOwn(given, name) && given[name] !== null ? given[name] : def.default;
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

export interface DispatchResolution {
  /** The `inputs` context: booleans and numbers typed. */
  inputs: Record<string, unknown>;
  /** `github.event.inputs`: every input that has a value, as text (GitHub sends strings). */
  eventInputs: Record<string, string>;
  /** One line each; empty when the run may start. */
  problems: string[];
}

/**
 * workflow_dispatch inputs from the event payload's `inputs` object (as GitHub's payload carries
 * them) and from values given by name, which win over the payload. An input the workflow does not
 * declare, a value of the wrong type, a missing required input, or a payload `inputs` that is not
 * a mapping of scalars is a problem.
 */
export function resolveDispatch(
  workflow: Workflow,
  given: Record<string, string>,
  payloadInputs?: unknown,
): DispatchResolution {
  const problems: string[] = [];
  const fromPayload: Record<string, unknown> = {};
  if (payloadInputs !== undefined && payloadInputs !== null) {
    if (typeof payloadInputs !== "object" || Array.isArray(payloadInputs)) {
      problems.push("The event payload's 'inputs' must be a mapping of input names to values");
    } else {
      for (const [name, v] of Object.entries(payloadInputs as Record<string, unknown>)) {
        if (v === null || ["string", "number", "boolean"].includes(typeof v)) fromPayload[name] = v;
        else problems.push(`Input '${name}' in the event payload must be a string, number or boolean`);
      }
    }
  }
  const merged: Record<string, unknown> = { ...fromPayload, ...given };
  const r = dispatchInputs(workflow, merged);
  problems.push(...r.problems);
  // As given where given (a number keeps its spelling), else the default's text.
  const eventInputs: Record<string, string> = {};
  for (const [name, v] of Object.entries(r.inputs)) {
    const raw = Object.hasOwn(merged, name) ? merged[name] : null;
    eventInputs[name] = String(raw ?? v);
  }
  return { inputs: r.inputs, eventInputs, problems };
}
