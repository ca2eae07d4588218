// `airlock server rotate-admin-password`, run on the server's machine with the server's
// configuration (as `airlock secrets rotate`): gives the built-in `admin` a new random password,
// written to <data dir>/admin-password (0600) and printed once; the old password, and every
// session and API token of `admin` (the CLI's in cli.json too), stop working at once. Audited.
// With an external database the server may keep running; the embedded one is run by one process
// at a time (stop the server first).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { appendAudit } from "../audit/index.js";
import { ADMIN_USER, rotateAdminPassword } from "../auth/index.js";
import { clusterPaths, startDatabase } from "../db/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { loadServerConfig } from "../server/index.js";
import { defaultIo, type CliIo } from "./commands/context.js";

/** Adds `rotate-admin-password` to the `server` command. */
export function registerAdminPassword(server: Command, io: Partial<CliIo> = {}): void {
  const full: CliIo = { ...defaultIo(), ...io };
  server
    .command("rotate-admin-password")
    .description(
      "on the server's machine: a new password for the built-in admin (printed once, written to <data dir>/admin-password); its old password, sessions and tokens end",
    )
    .option("-c, --config <file>", "server configuration file, to find the database (as `airlock server`)")
    .action(async (opts: { config?: string }) => {
      const config = loadServerConfig({ ...(opts.config ? { file: opts.config } : {}), env: full.env });
      if (!config.auth.builtinUsers)
        throw new AirlockError(
          ErrorCode.CONFIG_INVALID,
          "built-in users are switched off (auth.builtinUsers: false): admin has no password to rotate",
        );
      if (!config.databaseUrl && !existsSync(join(clusterPaths(config.dataDir).pgdata, "PG_VERSION")))
        throw new AirlockError(
          ErrorCode.CONFIG_INVALID,
          `no database in ${config.dataDir} (set AIRLOCK_DATABASE_URL or AIRLOCK_DATA_DIR as for the server)`,
        );
      const db = await startDatabase({
        dataDir: config.dataDir,
        ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
        migrate: false,
        maxConnections: 2,
      });
      try {
        const passwordFile = join(config.dataDir, "admin-password");
        const r = await rotateAdminPassword(db.pool, passwordFile, (client, userId) =>
          appendAudit(client, {
            actor: { kind: "system", display: "airlock server rotate-admin-password" },
            action: "user.admin_password_rotated",
            object: { kind: "user", id: userId },
            details: { name: ADMIN_USER, passwordFile },
          }),
        );
        full.stdout.write(
          `New password of ${ADMIN_USER} (shown once, also in ${passwordFile}, readable only by this user):\n` +
            `  ${r.password}\n` +
            `Its old password, sessions and API tokens no longer work (a CLI using one: airlock login).\n`,
        );
      } finally {
        await db.stop();
      }
    });
}
