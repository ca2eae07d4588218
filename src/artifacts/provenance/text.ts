// Strings from a provenance file shown to a person: the envelope is unverified until its signature
// checks, and even a signed statement carries names a job chose (artifact names, refs). Control,
// zero-width and bidirectional characters become \uXXXX escapes and the length is bounded, so a
// verdict stays one honest line on a terminal.
export function shown(value: unknown, max = 120): string {
  const s = typeof value === "string" ? value : (JSON.stringify(value) ?? "(none)");
  const clean = s.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** At most `max` items, then how many more. */
export function some<T>(items: T[], show: (t: T) => string, max = 3): string {
  const head = items.slice(0, max).map(show).join(", ");
  return items.length > max ? `${head} and ${items.length - max} more` : head;
}
