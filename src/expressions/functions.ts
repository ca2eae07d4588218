// Functions added to @actions/expressions: status functions, hashFiles, and number-formatting fixes.
import { data, wellKnownFunctions } from "@actions/expressions";
import type { FunctionDefinition, FunctionInfo } from "@actions/expressions/funcs/info";
import { AirlockError } from "../errors/index.js";
import { formatNumber } from "./convert.js";

type ExpressionData = data.ExpressionData;

/** Host hooks, mirrored from index.ts to avoid an import cycle. */
export interface FunctionHost {
  status?: { failed: boolean; cancelled: boolean; succeeded?: boolean };
  hashFiles?(patterns: string[]): string;
  /** The named contexts available here; reading any other fails (default: all). */
  contexts?: readonly string[];
}

export const STATUS_FUNCTIONS = ["success", "failure", "always", "cancelled"] as const;

/** Signatures the parser must know, so it accepts calls to our extension functions. */
export const EXTENSION_FUNCTION_INFO: FunctionInfo[] = [
  ...STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
  { name: "hashFiles", minArgs: 1, maxArgs: 255 },
];

/**
 * The library prints numbers with JS rules (e.g. "1e+21"); GitHub uses .NET "G15". Functions that only
 * coerce their arguments to strings get numbers pre-formatted so the output matches GitHub.
 */
function numbersAsStrings(d: ExpressionData): ExpressionData {
  if (d.kind === data.Kind.Number) return new data.StringData(formatNumber(d.value));
  return d;
}

function stringCoercing(name: string): FunctionDefinition {
  const base = wellKnownFunctions[name];
  if (base === undefined) throw new Error(`@actions/expressions lacks ${name}`);
  return { ...base, call: (...args) => base.call(...args.map(numbersAsStrings)) };
}

function joinFixed(): FunctionDefinition {
  const base = stringCoercing("join");
  return {
    ...base,
    call: (...args) => {
      const [first, ...rest] = args;
      if (first !== undefined && first.kind === data.Kind.Array) {
        const items = first.values().map(numbersAsStrings);
        return base.call(new data.Array(...items), ...rest);
      }
      return base.call(...args);
    },
  };
}

function containsFixed(): FunctionDefinition {
  const base = wellKnownFunctions["contains"];
  if (base === undefined) throw new Error("@actions/expressions lacks contains");
  // Only the string form coerces to text; the array form compares items with `==` and must keep numbers.
  return {
    ...base,
    call: (...args) => {
      const [hay, needle] = args;
      if (hay !== undefined && needle !== undefined && hay.primitive) {
        return base.call(numbersAsStrings(hay), numbersAsStrings(needle));
      }
      return base.call(...args);
    },
  };
}

/** Function implementations for one evaluation; keys are lower-case as the Evaluator looks them up. */
export function buildFunctions(host: FunctionHost | undefined): Map<string, FunctionDefinition> {
  const status = host?.status ?? { failed: false, cancelled: false };
  const bool = (b: boolean): ExpressionData => new data.BooleanData(b);
  const fns = new Map<string, FunctionDefinition>();
  fns.set("success", {
    name: "success",
    minArgs: 0,
    maxArgs: 0,
    call: () => bool((status.succeeded ?? true) && !status.failed && !status.cancelled),
  });
  fns.set("failure", { name: "failure", minArgs: 0, maxArgs: 0, call: () => bool(status.failed) });
  fns.set("cancelled", { name: "cancelled", minArgs: 0, maxArgs: 0, call: () => bool(status.cancelled) });
  fns.set("always", { name: "always", minArgs: 0, maxArgs: 0, call: () => bool(true) });
  fns.set("hashfiles", {
    name: "hashFiles",
    minArgs: 1,
    maxArgs: 255,
    call: (...args) => {
      if (host?.hashFiles === undefined) {
        throw new AirlockError("EXPRESSION_FAILED", "hashFiles is not available here");
      }
      const patterns = args.map((a) => numbersAsStrings(a).coerceString());
      return new data.StringData(host.hashFiles(patterns));
    },
  });
  fns.set("format", stringCoercing("format"));
  fns.set("startswith", stringCoercing("startswith"));
  fns.set("endswith", stringCoercing("endswith"));
  fns.set("join", joinFixed());
  fns.set("contains", containsFixed());
  return fns;
}
