// `airlock audit verify` (the hash chain, read straight from the configured database — as
// `airlock server` finds it — or from a plain-SQL pg_dump) and `airlock audit list` (through the
// API: ./commands/audit.ts). Verify prints "audit log intact: N entries, head H" and exits 0, or
// one line naming the first broken entry and exits 1.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import {
  auditChainError,
  describeChain,
  verifyAuditDb,
  verifyAuditDump,
  type ChainResult,
  type Checkpoint,
} from "../audit/index.js";
import { clusterPaths, startDatabase } from "../db/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { loadServerConfig } from "../server/index.js";
import { registerAuditList } from "./commands/audit.js";
import { defaultIo, failOnProblems, intOption, type CliIo } from "./commands/context.js";

interface VerifyOptions {
  dump?: string;
  config?: string;
  expectHead?: string;
  expectCount?: string;
}

export function registerAuditCommands(program: Command, io: Partial<CliIo> = {}): void {
  const full: CliIo = { ...defaultIo(), ...io };
  const audit = program.command("audit").description("the tamper-evident audit log");
  audit
    .command("verify")
    .description("check the audit log's hash chain in the database (or in a pg_dump file)")
    .option("--dump <file>", "verify a plain-SQL pg_dump instead of the database")
    .option("-c, --config <file>", "server configuration file, to find the database (as `airlock server`)")
    .option("--expect-head <hash>", "a head printed earlier: the log must still hold it")
    .option("--expect-count <n>", "the entry count printed with that head: the log must hold at least n")
    .action(async (opts: VerifyOptions) => {
      const problems: string[] = [];
      const count = intOption(opts.expectCount, "--expect-count", 1, problems);
      if (opts.expectHead !== undefined && !/^[0-9a-f]{64}$/.test(opts.expectHead))
        problems.push("--expect-head expects a 64-character lower-case hex hash");
      failOnProblems(problems);
      const expect: Checkpoint = {
        ...(count !== undefined ? { count } : {}),
        ...(opts.expectHead !== undefined ? { head: opts.expectHead } : {}),
      };
      const result = opts.dump
        ? await verifyAuditDump(opts.dump, expect)
        : await verifyDatabase(opts, full, expect);
      if (!result.ok) throw auditChainError(result, opts.dump ? `in ${opts.dump}` : "in the database");
      full.stdout.write(`${describeChain(result)}\n`);
    });
  registerAuditList(audit, full);
}

async function verifyDatabase(opts: VerifyOptions, io: CliIo, expect: Checkpoint): Promise<ChainResult> {
  const config = loadServerConfig({ ...(opts.config ? { file: opts.config } : {}), env: io.env });
  // Never create an embedded cluster just to find it empty.
  if (!config.databaseUrl && !existsSync(join(clusterPaths(config.dataDir).pgdata, "PG_VERSION")))
    throw new AirlockError(
      ErrorCode.CONFIG_INVALID,
      `no database in ${config.dataDir} (set AIRLOCK_DATABASE_URL or AIRLOCK_DATA_DIR, or use --dump)`,
    );
  const db = await startDatabase({
    dataDir: config.dataDir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    migrate: false,
    maxConnections: 1,
  });
  try {
    return await verifyAuditDb(db.pool, { expect });
  } finally {
    await db.stop();
  }
}
