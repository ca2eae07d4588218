// Plain-text tables and time formatting for the human output of the API commands.
// Times are printed from the server's ISO strings as UTC, so output does not depend on the clock.

export type Cell = string | number | boolean | null | undefined;

const text = (c: Cell): string => (c === null || c === undefined || c === "" ? "-" : String(c));

/** Columns padded to their widest cell; the last column is not padded (no trailing spaces). */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 19).replace("T", " ");
}

export function duration(start: string | null | undefined, end: string | null | undefined): string {
  if (!start || !end) return "-";
  const ms = new Date(end).getTime() - new Date(start).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "-";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export const list = (items: string[] | null | undefined): string =>
  items && items.length > 0 ? items.join(",") : "-";

/** "completed (success)", "queued", ... */
export const status = (state: string, conclusion: string | null | undefined): string =>
  conclusion ? `${state} (${conclusion})` : state;
