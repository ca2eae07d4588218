// Text a job produced is hostile data: it may hold NUL bytes (PostgreSQL text and jsonb cannot
// store them, and an env value with one makes every later process fail to start), invalid UTF-8
// (already U+FFFD once decoded) and, once it has travelled as JSON, lone surrogates (jsonb refuses
// them). cleanText makes any string safe to store, send and pass on; cleanDeep does it for every
// string (keys included) of a JSON value. Both return their input when there is nothing to clean.

export const REPLACEMENT = "\uFFFD";

/** Longest log line kept (characters); the rest of a longer line is dropped with a marker. */
export const MAX_LINE_CHARS = 64 * 1024;

// NUL, or a UTF-16 surrogate that is not part of a pair.
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const DIRTY = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DIRTY_ALL = new RegExp(DIRTY.source, "g");

export function cleanText(text: string): string {
  return DIRTY.test(text) ? text.replace(DIRTY_ALL, REPLACEMENT) : text;
}

export function cleanDeep<T>(value: T): T {
  if (typeof value === "string") return cleanText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => cleanDeep(v)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[cleanText(k)] = cleanDeep(v);
    return out as T;
  }
  return value;
}

/** The marker appended to a line cut at MAX_LINE_CHARS. */
export function lineCutMarker(droppedChars: number): string {
  return ` … [line cut: ${droppedChars} more characters dropped]`;
}
