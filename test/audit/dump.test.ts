// Offline verification of a real plain-SQL pg_dump: the dump of an intact log verifies with the
// database's head; one edited or removed line is found and named; the rows' order in the file
// and the dumping session's time zone do not matter.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAuditDb, verifyAuditDump, type AuditEntry } from "../../src/audit/index.js";
import { copyField, utcMicros } from "../../src/audit/dump.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { fill } from "./helpers.js";
import { dumpTarget, type DumpTarget } from "./pg-dump.js";

/** The dump's audit_log rows: [index of the COPY line, data lines]. */
function copyBlock(lines: string[]): { start: number; rows: string[] } {
  const start = lines.findIndex((l) => l.startsWith("COPY public.audit_log "));
  assert.ok(start >= 0, "the dump has a COPY block for audit_log");
  const end = lines.indexOf("\\.", start);
  return { start, rows: lines.slice(start + 1, end) };
}

describe("audit log: verifying a pg_dump", () => {
  let db: TestDatabase;
  let dumps: DumpTarget | string;
  let dir: string;
  let entries: AuditEntry[];
  let text: string;

  before(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), "airlock-audit-dump-"));
    dumps = await dumpTarget(db.url, db.pool);
    if (typeof dumps === "string") return;
    entries = await fill(dumps.pool, 8);
    await dumps.dump(join(dir, "intact.sql"));
    text = await readFile(join(dir, "intact.sql"), "utf8");
  });
  after(async () => {
    if (typeof dumps !== "string") await dumps.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const edited = async (name: string, change: (rows: string[]) => string[]): Promise<string> => {
    const lines = text.split("\n");
    const { start, rows } = copyBlock(lines);
    lines.splice(start + 1, rows.length, ...change(rows));
    const file = join(dir, name);
    await writeFile(file, lines.join("\n"));
    return file;
  };
  const rowOf = (rows: string[], seq: number): number => rows.findIndex((r) => r.startsWith(`${seq}\t`));

  it("an intact dump verifies, with the database's count and head", async (t) => {
    if (typeof dumps === "string") return t.skip(dumps);
    const fromDump = await verifyAuditDump(join(dir, "intact.sql"));
    assert.deepEqual(fromDump, await verifyAuditDb(dumps.pool));
    assert.deepEqual(fromDump, { ok: true, count: 8, head: entries.at(-1)?.hash, lastSeq: 8 });
    assert.ok(
      (await verifyAuditDump(join(dir, "intact.sql"), { count: 8, head: entries[7]?.hash ?? "" })).ok,
    );
  });

  it("one edited line is found at its entry", async (t) => {
    if (typeof dumps === "string") return t.skip(dumps);
    const file = await edited("edited.sql", (rows) => {
      const i = rowOf(rows, 4);
      assert.ok(rows[i]?.includes("\t127.0.0.1\t"));
      rows[i] = (rows[i] ?? "").replace("\t127.0.0.1\t", "\t127.0.0.2\t");
      return rows;
    });
    const r = await verifyAuditDump(file);
    assert.deepEqual(r.ok ? r : { seq: r.seq, reason: r.reason }, { seq: 4, reason: "edited" });
  });

  it("a removed line is found; the last one only against a checkpoint", async (t) => {
    if (typeof dumps === "string") return t.skip(dumps);
    const middle = await verifyAuditDump(
      await edited("removed.sql", (rows) => rows.filter((_, i) => i !== rowOf(rows, 6))),
    );
    assert.deepEqual(middle.ok ? middle : { seq: middle.seq, reason: middle.reason }, {
      seq: 6,
      reason: "removed",
    });
    const cut = await edited("cut.sql", (rows) => rows.filter((_, i) => i !== rowOf(rows, 8)));
    assert.equal((await verifyAuditDump(cut)).ok, true);
    const r = await verifyAuditDump(cut, { count: 8, head: entries[7]?.hash ?? "" });
    assert.deepEqual(r.ok ? r : { seq: r.seq, reason: r.reason }, { seq: 8, reason: "removed" });
  });

  it("rows in another order and another session time zone verify the same", async (t) => {
    if (typeof dumps === "string") return t.skip(dumps);
    const shuffled = await edited("shuffled.sql", (rows) => [...rows].reverse());
    assert.equal((await verifyAuditDump(shuffled)).ok, true);
    const zoned = join(dir, "zoned.sql");
    await dumps.dump(zoned, { PGTZ: "Asia/Kolkata" });
    const zonedRows = copyBlock((await readFile(zoned, "utf8")).split("\n")).rows;
    assert.match(zonedRows[0] ?? "", /\+05:30\t/, "the dump's times are in the session's zone");
    assert.deepEqual(await verifyAuditDump(zoned), await verifyAuditDump(join(dir, "intact.sql")));
  });

  it("a file without the block, or missing, is a usage error", async () => {
    const other = join(dir, "other.sql");
    await writeFile(other, "SELECT 1;\n");
    await assert.rejects(verifyAuditDump(other), { code: "USAGE" });
    await assert.rejects(verifyAuditDump(join(dir, "nope.sql")), { code: "USAGE" });
  });
});

describe("COPY text format and times", () => {
  it("decodes NULL, escapes, octal and hex bytes", () => {
    assert.equal(copyField("\\N"), null);
    assert.equal(copyField("a\\tb\\nc\\\\d"), "a\tb\nc\\d");
    assert.equal(copyField("\\303\\251"), "é");
    assert.equal(copyField("\\xc3\\xa9\\q"), "éq");
    assert.equal(copyField("plain ü"), "plain ü");
  });

  it("turns PostgreSQL's ISO output in any zone into the hashed UTC text", () => {
    assert.equal(utcMicros("2025-01-02 03:04:05.6+01"), "2025-01-02T02:04:05.600000Z");
    assert.equal(utcMicros("2025-01-02 03:04:05+05:30"), "2025-01-01T21:34:05.000000Z");
    assert.equal(utcMicros("2025-01-02 00:00:00.123456-03"), "2025-01-02T03:00:00.123456Z");
    assert.equal(utcMicros("garbage"), "garbage");
  });
});
