// Helpers of the audit tests: a log filled with varied entries, and tampering as an attacker
// with database write access would do it (dropping the append-only triggers first).
import type pg from "pg";
import { appendAudit, type AuditEntry } from "../../src/audit/index.js";

/** Appends `n` entries with varied fields (NULLs, unicode, nested details, awkward strings). */
export async function fill(pool: pg.Pool, n: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await appendAudit(pool, {
        actor: i % 3 === 0 ? { kind: "system" } : { kind: "token", id: (i % 2) + 1, display: "admin" },
        action: [
          "repository.created",
          "node.registered",
          "organization.changed",
          "repository.egress_changed",
        ][i % 4] as string,
        object: i % 5 === 4 ? null : { kind: "repository", id: String(100 + i) },
        clientAddress: i % 2 ? "127.0.0.1" : "::1",
        details: {
          i,
          name: `o'wner/rëpo\t${i}\\n`,
          list: ["a", 1.5, null, { z: 1, a: [true] }],
          ...(i === 2 ? { weird: "nul\0 and lone \uD800 surrogate" } : {}),
        },
      }),
    );
  }
  return out;
}

/** Runs `sql` with the append-only triggers out of the way, as someone owning the table could. */
export async function tamper(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<void> {
  await pool.query("ALTER TABLE audit_log DISABLE TRIGGER USER");
  try {
    await pool.query(sql, params);
  } finally {
    await pool.query("ALTER TABLE audit_log ENABLE TRIGGER USER");
  }
}

/** Drops the triggers for good (the attacker who does not bother to put them back). */
export async function dropTriggers(pool: pg.Pool): Promise<void> {
  await pool.query("DROP TRIGGER audit_log_no_update_delete ON audit_log");
  await pool.query("DROP TRIGGER audit_log_no_truncate ON audit_log");
}
