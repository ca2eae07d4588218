// The database handle of job identity: a pool (each operation its own transaction) or a client
// already in a transaction.
import pg from "pg";

export type Db = pg.Pool | pg.PoolClient;

/** Runs `fn` in a transaction: its own on a pool, the caller's on a client. */
export async function inTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return fn(db);
  const client = await db.connect();
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
