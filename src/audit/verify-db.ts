// Verifying the audit log in the database: read in seq order, a batch at a time (the log can be
// long; memory stays flat), through the pure ChainVerifier.
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Db } from "./append.js";
import { ENTRY_COLUMNS, entryFromRow, type AuditRow } from "./list.js";
import { ChainVerifier, type ChainResult, type Checkpoint } from "./verify.js";

export interface VerifyDbOptions {
  expect?: Checkpoint;
  /** Rows per query (default 1000). */
  batch?: number;
}

export async function verifyAuditDb(db: Db, o: VerifyDbOptions = {}): Promise<ChainResult> {
  const verifier = new ChainVerifier(o.expect);
  const batch = o.batch ?? 1000;
  // From the lowest bigint: a row slipped in below seq 1 (after dropping the CHECK) is seen too.
  let after = "-9223372036854775808";
  for (;;) {
    let rows: AuditRow[];
    try {
      ({ rows } = await db.query<AuditRow>(
        `SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [after, batch],
      ));
    } catch (cause) {
      if ((cause as { code?: string }).code === "42P01")
        throw new AirlockError(
          ErrorCode.DB_FAILED,
          "this database has no audit log (migration 008 not applied)",
          {
            cause,
          },
        );
      throw cause;
    }
    for (const row of rows) if (verifier.push(entryFromRow(row))) return verifier.finish();
    const last = rows.at(-1);
    if (!last || rows.length < batch) return verifier.finish();
    after = last.seq;
  }
}
