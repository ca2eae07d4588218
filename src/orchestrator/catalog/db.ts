// Shared plumbing for the catalog's SQL: a query target (pool or a transaction's client), row
// conversions (pg returns bigint and numeric as strings) and PostgreSQL errors as API errors.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../../errors/index.js";

/** A pool, or a client inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

export function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

export function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

/** Runs `fn` inside a transaction on one client of the pool. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A unique violation becomes CONFLICT naming the object; anything else is rethrown as is. */
export async function uniquely<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: string }).code === "23505")
      throw new AirlockError(ErrorCode.CONFLICT, `${what} exists already`, { cause: err });
    throw err;
  }
}

export function notFound(what: string, id: number | string): AirlockError {
  return new AirlockError(ErrorCode.NOT_FOUND, `${what} ${id} not found`);
}
