// Secrets of a local `airlock run`, as `act` takes them: a secret file (`--secret-file`, else
// `.secrets` in the repository's root when there is one; dotenv syntax, cli/env-files.ts), then `-s NAME=value` or `-s NAME` (the
// value from the environment variable NAME — keeps it off the command line, where `ps` shows
// it), later ones winning. Then one warning line per workflow that refers to a secret set nowhere.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { missingSecrets, missingSecretsWarning, referencedSecrets } from "../secrets/index.js";
import type { Workflow } from "../workflow/model.js";
import { readEnvFileOption } from "./env-files.js";

export const DEFAULT_SECRET_FILE = ".secrets";

export interface LocalSecretOptions {
  secretFile?: string;
  /** `-s` values: NAME=value or NAME. */
  secret?: string[];
  /** The repository's root (where `.secrets` is looked for). */
  root: string;
  env: NodeJS.ProcessEnv;
}

export async function localSecrets(o: LocalSecretOptions): Promise<Record<string, string>> {
  const secrets: Record<string, string> = { GITHUB_TOKEN: "" };
  const file = await readEnvFileOption(o.root, {
    ...(o.secretFile !== undefined ? { given: o.secretFile } : {}),
    flag: "--secret-file",
    defaultName: DEFAULT_SECRET_FILE,
  });
  Object.assign(secrets, file.values);
  for (const item of o.secret ?? []) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new AirlockError(
        ErrorCode.USAGE,
        `-s expects NAME=value or NAME, got a bad name '${name.slice(0, 40)}'`,
      );
    if (eq >= 0) secrets[name] = item.slice(eq + 1);
    else if (o.env[name] !== undefined) secrets[name] = o.env[name];
    else
      throw new AirlockError(
        ErrorCode.USAGE,
        `-s ${name}: no environment variable ${name} to take the value from`,
      );
  }
  return secrets;
}

/** One line per workflow referring to secrets that `secrets` does not hold. */
export async function missingSecretWarnings(
  root: string,
  workflows: readonly Workflow[],
  secrets: Record<string, string>,
): Promise<string[]> {
  const lines: string[] = [];
  for (const w of workflows) {
    const text = await readFile(join(root, w.file), "utf8").catch(() => "");
    const missing = missingSecrets(referencedSecrets(text), Object.keys(secrets));
    if (missing.length > 0) lines.push(`warning: ${missingSecretsWarning(w.file, missing)}`);
  }
  return lines;
}
