// One helper every queue operation uses: a named (prepared) statement, so PostgreSQL parses and
// plans each operation once per connection instead of once per call — the dispatch path runs
// these thousands of times a second.
import type pg from "pg";
import type { Queryable } from "./types.js";

export async function run<R extends pg.QueryResultRow>(
  db: Queryable,
  name: string,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  // Pool and PoolClient share this call shape; TypeScript cannot pick an overload on the union.
  return (db as pg.Pool).query<R>({ name: `airlock.queue.${name}`, text, values });
}

/** A lease length as an SQL interval parameter. */
export function leaseInterval(leaseMs: number): string {
  return `${Math.max(0, Math.round(leaseMs))} milliseconds`;
}
