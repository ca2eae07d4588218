// Small statistics and table helpers shared by the benchmarks: percentiles (nearest rank) and
// fixed-width rows, so every bench prints its figures the same way.
import os from "node:os";

/** Nearest-rank percentile of `xs` (0 for an empty list). */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

export function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export const ms = (v: number): string => `${v.toFixed(1)} ms`;

/** Prints rows as an aligned table; the first row is the header. */
export function table(rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  for (const r of cells) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  }
}

/** p50/p95/p99 of a list of milliseconds, as table cells. */
export function spread(xs: number[]): string[] {
  return [ms(pct(xs, 50)), ms(pct(xs, 95)), ms(pct(xs, 99))];
}

/** One line on the machine the figures come from: other work on it skews them. */
export function machineLine(): string {
  const cpus = os.cpus();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  return `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? "cpu"}, load average ${load} (at the end)`;
}
