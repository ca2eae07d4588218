// `airlock secrets rotate`, run on the server's machine (it reads the server's configuration, as
// `airlock audit verify` does, to find the database and the KMS): makes a new KMS key, re-wraps
// every organization's data key under it — no secret is touched — and prints the counts. With
// --retire it then destroys the KMS keys nothing is wrapped under (backups of the database taken
// before need them: retire once those have expired). With an external database the server may
// keep running meanwhile; the embedded one is run by one process at a time (stop the server).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { appendAudit } from "../audit/index.js";
import { clusterPaths, startDatabase } from "../db/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { checkKmsHoldsKeys, openKms, rotateKms, type RotationReport } from "../secrets/index.js";
import { loadServerConfig } from "../server/index.js";
import { defaultIo, type CliIo } from "./commands/context.js";

interface RotateOptions {
  config?: string;
  retire?: boolean;
  newKey?: boolean;
}

export function describeRotation(r: RotationReport): string {
  const lines = [
    r.currentKeyId === r.previousKeyId
      ? `KMS key ${r.currentKeyId} stays current.`
      : `KMS key ${r.currentKeyId} is now current (was ${r.previousKeyId}).`,
    `Re-wrapped ${r.rewrapped} organization key(s) (${r.alreadyCurrent} already under it); ${r.secrets} secret(s) untouched.`,
  ];
  if (r.retired.length > 0) lines.push(`Retired KMS key(s): ${r.retired.join(", ")}.`);
  if (r.kept.length > 0)
    lines.push(
      `Kept older KMS key(s): ${r.kept.join(", ")} (database backups taken before need them; --retire once those have expired).`,
    );
  return lines.join("\n") + "\n";
}

/** Adds `rotate` to the `secrets` command (made by the API commands) or makes it. */
export function registerSecretsAdmin(program: Command, io: Partial<CliIo> = {}): void {
  const full: CliIo = { ...defaultIo(), ...io };
  const secrets =
    program.commands.find((c) => c.name() === "secrets") ?? program.command("secrets").description("secrets");
  secrets
    .command("rotate")
    .description(
      "on the server's machine: make a new KMS key and re-wrap every organization's data key under it (secrets untouched)",
    )
    .option(
      "-c, --config <file>",
      "server configuration file, to find the database and the KMS (as `airlock server`)",
    )
    .option("--retire", "then destroy the KMS keys nothing is wrapped under any more")
    .option("--no-new-key", "re-wrap under the newest existing KMS key (e.g. one made in the HSM by hand)")
    .action(async (opts: RotateOptions) => {
      const config = loadServerConfig({ ...(opts.config ? { file: opts.config } : {}), env: full.env });
      if (!config.databaseUrl && !existsSync(join(clusterPaths(config.dataDir).pgdata, "PG_VERSION")))
        throw new AirlockError(
          ErrorCode.CONFIG_INVALID,
          `no database in ${config.dataDir} (set AIRLOCK_DATABASE_URL or AIRLOCK_DATA_DIR)`,
        );
      const db = await startDatabase({
        dataDir: config.dataDir,
        ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
        migrate: false,
        maxConnections: 2,
      });
      try {
        // Never a new key file here: a missing one is an error, not a fresh start.
        const kms = await openKms(config.kms, { create: false });
        try {
          await checkKmsHoldsKeys(db.pool, kms);
          const report = await rotateKms(db.pool, kms, {
            newKey: opts.newKey !== false,
            retire: opts.retire === true,
          });
          await appendAudit(db.pool, {
            actor: { kind: "system", display: "airlock secrets rotate" },
            action: "kms.rotated",
            details: {
              provider: kms.provider,
              previousKeyId: report.previousKeyId,
              currentKeyId: report.currentKeyId,
              rewrapped: report.rewrapped,
              retired: report.retired,
            },
          });
          full.stdout.write(describeRotation(report));
        } finally {
          await kms.close();
        }
      } finally {
        await db.stop();
      }
    });
}
