// Verifying the audit log offline, from a plain-SQL pg_dump (`pg_dump -Fp`): the
// `COPY public.audit_log (...) FROM stdin;` block is read in COPY's text format (tab-separated,
// \N for NULL, backslash escapes), rows are sorted by seq (COPY writes them in storage order,
// which need not be seq order) and checked by the same ChainVerifier as the database.
// The rows are held in memory: about the size of the log's block in the dump.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { AuditEntry, JsonValue } from "./entry.js";
import { ChainVerifier, type ChainResult, type Checkpoint } from "./verify.js";

const COPY_LINE = /^COPY (?:(?:public|"public")\.)?(?:audit_log|"audit_log") \((.*)\) FROM stdin;$/;

export async function verifyAuditDump(file: string, expect: Checkpoint = {}): Promise<ChainResult> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let columns: string[] | undefined;
  let done = false;
  let lineNo = 0;
  const entries: AuditEntry[] = [];
  let unreadable: number | undefined;
  try {
    for await (const line of lines) {
      lineNo++;
      if (lineNo === 1 && line.startsWith("PGDMP"))
        throw usage(`${file} is a custom-format dump; verify a plain-SQL one (pg_dump -Fp)`);
      if (!columns) {
        const m = COPY_LINE.exec(line);
        if (m?.[1] !== undefined) columns = m[1].split(", ").map(unquote);
        continue;
      }
      if (line === "\\.") {
        done = true;
        break;
      }
      const entry = parseRow(line, columns);
      if (entry) entries.push(entry);
      else unreadable ??= lineNo;
    }
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") throw usage(`no such file: ${file}`);
    throw err;
  } finally {
    lines.close();
  }
  if (!columns)
    throw usage(`${file} holds no COPY block for public.audit_log (a plain-SQL pg_dump is needed)`);
  if (!done || unreadable !== undefined)
    return {
      ok: false,
      seq: null,
      reason: "edited",
      message: done
        ? `line ${unreadable} of the dump is not a readable audit_log row`
        : "the audit_log block of the dump is cut off (no closing \\.)",
      verified: 0,
    };
  entries.sort((a, b) => a.seq - b.seq);
  const verifier = new ChainVerifier(expect);
  for (const e of entries) if (verifier.push(e)) break;
  return verifier.finish();
}

function usage(message: string): AirlockError {
  return new AirlockError(ErrorCode.USAGE, message);
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}

/** One COPY text-format line as an entry; undefined when it cannot be one. */
function parseRow(line: string, columns: string[]): AuditEntry | undefined {
  const fields = line.split("\t");
  if (fields.length !== columns.length) return undefined;
  const row = new Map<string, string | null>();
  for (const [i, name] of columns.entries()) row.set(name, copyField(fields[i] ?? ""));
  const get = (k: string): string | null => row.get(k) ?? null;
  const seqText = get("seq");
  if (seqText === null || !/^-?\d+$/.test(seqText)) return undefined;
  let details: unknown;
  try {
    details = JSON.parse(get("details") ?? "{}");
  } catch {
    // Unparsable details: keep them as text, so the entry fails its hash (edited) rather than vanish.
    details = { unparsable: get("details") };
  }
  const objectKind = get("object_kind");
  return {
    seq: Number(seqText),
    at: utcMicros(get("at") ?? ""),
    actor: { kind: get("actor_kind") ?? "", id: get("actor_id"), display: get("actor_display") },
    action: get("action") ?? "",
    object: objectKind === null ? null : { kind: objectKind, id: get("object_id") },
    clientAddress: get("client_address"),
    details: details as { [key: string]: JsonValue },
    prevHash: get("prev_hash") ?? "",
    hash: get("hash") ?? "",
  };
}

const SIMPLE: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/**
 * Decodes one field of COPY's text format: `\N` alone is NULL; \b \f \n \r \t \v, \ooo (octal)
 * and \xhh (hex) stand for bytes; a backslash before anything else stands for that character.
 */
export function copyField(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  const bytes: number[] = [];
  const push = (s: string): void => {
    for (const b of Buffer.from(s, "utf8")) bytes.push(b);
  };
  for (let i = 0; i < field.length; i++) {
    const c = field[i] ?? "";
    if (c !== "\\" || i === field.length - 1) {
      const cp = field.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      push(ch);
      i += ch.length - 1;
      continue;
    }
    const n = field[++i] ?? "";
    const simple = SIMPLE[n];
    if (simple !== undefined) bytes.push(simple);
    else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(field.slice(i)) ?? ["0"];
      bytes.push(Number.parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (n === "x" && /[0-9A-Fa-f]/.test(field[i + 1] ?? "")) {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(field.slice(i + 1)) ?? ["0"];
      bytes.push(Number.parseInt(m[0], 16));
      i += m[0].length;
    } else push(n);
  }
  return Buffer.from(bytes).toString("utf8");
}

const PG_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?$/;

/**
 * A timestamptz as PostgreSQL prints it (DateStyle ISO, any time zone: `2025-01-02 03:04:05.6+01`)
 * turned into the UTC text that was hashed (`2025-01-02T02:04:05.600000Z`). Anything else is
 * returned unchanged (and then fails its entry's hash).
 */
export function utcMicros(text: string): string {
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return text;
  const n = (i: number): number => Number(m[i] ?? "0");
  const offset = (m[8] === "-" ? -1 : 1) * (n(9) * 3600 + n(10) * 60 + n(11));
  const ms = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6)) - offset * 1000;
  if (n(1) < 1000 || Number.isNaN(ms)) return text;
  const micros = (m[7] ?? "").padEnd(6, "0");
  return `${new Date(ms).toISOString().slice(0, 19)}.${micros}Z`;
}
