// Optional census of the SQL statements the orchestrator sends in a measured window: with
// AIRLOCK_BENCH_COUNT_QUERIES=1, pg's Client.query is wrapped (this process only) and statements
// are counted by name (named statements) or by their first words. Diagnostics, not figures.
import pg from "pg";

export interface QueryCensus {
  start(): void;
  /** Stops counting; returns [statement, count] sorted by count. */
  stop(): Array<[string, number]>;
}

type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;

export function queryCensus(
  enabled = process.env.AIRLOCK_BENCH_COUNT_QUERIES === "1",
): QueryCensus | undefined {
  if (!enabled) return undefined;
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  const counts = new Map<string, number>();
  const label = (q: unknown): string => {
    const c = q as { name?: string; text?: string } | string;
    if (typeof c === "string") return c.replace(/\s+/g, " ").trim().slice(0, 70);
    if (c?.name) return c.name;
    return (c?.text ?? "?").replace(/\s+/g, " ").trim().slice(0, 70);
  };
  return {
    start() {
      proto.query = function (this: pg.Client, ...args: unknown[]) {
        const k = label(args[0]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        return original.apply(this, args);
      };
    },
    stop() {
      proto.query = original;
      return [...counts.entries()].sort((a, b) => b[1] - a[1]);
    },
  };
}
