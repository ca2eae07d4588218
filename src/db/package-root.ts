// Finds Airlock's package root (the folder holding its package.json) so that the top-level
// `migrations/` folder is found both from TypeScript sources (src/db) and compiled output (dist/src/db).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && isAirlockManifest(manifest)) return (root = dir);
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`airlock package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function isAirlockManifest(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "airlock";
  } catch {
    return false;
  }
}

/** The folder of numbered `.sql` migrations shipped with Airlock. */
export function defaultMigrationsDir(): string {
  return join(packageRoot(), "migrations");
}
