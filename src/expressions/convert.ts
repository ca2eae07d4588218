// Conversions between plain JSON values and @actions/expressions data, and GitHub's string coercion.
import { data } from "@actions/expressions";

type ExpressionData = data.ExpressionData;

/** Plain JS (JSON-like) value → expression data. undefined/functions become null, like a missing property. */
export function toData(v: unknown): ExpressionData {
  if (v === null || v === undefined) return new data.Null();
  if (typeof v === "string") return new data.StringData(v);
  if (typeof v === "number") return new data.NumberData(v);
  if (typeof v === "boolean") return new data.BooleanData(v);
  if (typeof v === "bigint") return new data.NumberData(Number(v));
  if (Array.isArray(v)) return new data.Array(...v.map(toData));
  if (typeof v === "object") {
    // Dictionary lookups are case-insensitive, which gives GitHub's `github.REF` behaviour.
    const d = new data.Dictionary();
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) d.add(k, toData(val));
    return d;
  }
  return new data.Null();
}

/** Expression data → plain JS value (FilteredArray results become ordinary arrays). */
export function fromData(d: ExpressionData): unknown {
  switch (d.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Boolean:
    case data.Kind.Number:
    case data.Kind.String:
      return d.value;
    case data.Kind.Array:
      return d.values().map(fromData);
    default: {
      const out: Record<string, unknown> = {};
      for (const p of d.pairs()) out[p.key] = fromData(p.value);
      return out;
    }
  }
}

/**
 * A number as GitHub prints it: .NET `ToString("G15")` — 15 significant digits, integers without ".0",
 * scientific notation ("1E+21", "1E-07") when the exponent is >= 15 or <= -5.
 */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  if (n === 0) return "0";
  const [mantissa = "0", expText = "0"] = n.toExponential(14).split("e");
  const exp = Number(expText);
  if (exp >= 15 || exp < -4) {
    const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    const sign = exp < 0 ? "-" : "+";
    return `${m}E${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  // In this exponent range JS prints plain decimals, and the round trip trims trailing zeros.
  return String(Number(n.toPrecision(15)));
}

/** GitHub's coercion of a value to a string; arrays and objects print as pretty JSON (like toJSON). */
export function toExpressionString(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "bigint") return formatNumber(Number(v));
  return toJson(v);
}

/** Pretty JSON the way toJSON() prints it (two-space indent). */
export function toJson(v: unknown): string {
  return JSON.stringify(v ?? null, null, 2) ?? "null";
}

/** Truthiness by GitHub's rules: null, false, 0, NaN and "" are falsy; arrays and objects are truthy. */
export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === "") return false;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  return true;
}
