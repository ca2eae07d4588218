// `airlock audit list`: the audit log through the API (admin token), newest first, as a table or
// JSON; `--before <seq>` pages back. (`airlock audit verify` reads the database: ../audit.ts.)
import type { Command } from "commander";
import type { AuditEntryView, AuditListFilter } from "../api/index.js";
import {
  apiOptions,
  connect,
  failOnProblems,
  intOption,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { table, time } from "./table.js";

interface ListOptions extends CommonOptions {
  action?: string;
  actor?: string;
  object?: string;
  since?: string;
  until?: string;
  before?: string;
  limit?: string;
}

const who = (a: AuditEntryView["actor"]): string =>
  [a.kind, a.id].filter((x) => x !== null).join(":") + (a.display ? ` (${a.display})` : "");

/** C1 controls, zero-width and bidirectional formatting characters as \uXXXX escapes. */
export function printable(s: string): string {
  return s.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function auditTable(entries: AuditEntryView[]): string {
  return table(
    ["SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "CLIENT", "DETAILS"],
    entries.map((e) => [
      e.seq,
      time(e.at),
      printable(who(e.actor)),
      e.action,
      printable(e.object ? [e.object.kind, e.object.id].filter((x) => x !== null).join(":") : ""),
      e.clientAddress,
      // Details are data: printed as JSON, so control characters cannot reach the terminal raw
      // (and C1 controls and bidirectional overrides, which JSON leaves as they are, escaped too).
      printable(JSON.stringify(e.details)),
    ]),
  );
}

export function registerAuditList(audit: Command, io: CliIo): void {
  apiOptions(
    audit
      .command("list")
      .description("list audit entries, newest first")
      .option("--action <prefix>", "action or dotted prefix (repository, user.login)")
      .option("--actor <kind[:id]>", "e.g. token:1, user:7, system")
      .option("--object <kind[:id]>", "e.g. repository:12, node")
      .option("--since <time>", "ISO time, inclusive")
      .option("--until <time>", "ISO time, exclusive")
      .option("--before <seq>", "only entries before this seq (next page)")
      .option("--limit <n>", "at most n entries (default 100, max 1000)"),
  ).action(async (opts: ListOptions) => {
    const problems: string[] = [];
    const before = intOption(opts.before, "--before", 1, problems);
    const limit = intOption(opts.limit, "--limit", 1, problems);
    failOnProblems(problems);
    const filter: AuditListFilter = {
      ...(opts.action ? { action: opts.action } : {}),
      ...(opts.actor ? { actor: opts.actor } : {}),
      ...(opts.object ? { object: opts.object } : {}),
      ...(opts.since ? { since: opts.since } : {}),
      ...(opts.until ? { until: opts.until } : {}),
      ...(before !== undefined ? { before } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
    const entries = await (await connect(opts, io)).listAudit(filter);
    if (opts.json) printJson(io, entries);
    else io.stdout.write(entries.length === 0 ? "No audit entries.\n" : auditTable(entries));
  });
}
