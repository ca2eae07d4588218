// The artifact service's master key: 32 random bytes in a file only the orchestrator reads (0600),
// made at the first start. Runtime tokens and signed blob URLs are signed with keys derived from it
// (runtime-token.ts: deriveKeys), so they survive a restart; replacing the file kills them all.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

export async function openServiceKey(path: string): Promise<Buffer> {
  try {
    const key = await readFile(path);
    if (key.length !== 32)
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `${path}: the artifact service key must be 32 bytes`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, key, { mode: 0o600, flag: "wx" });
    return key;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFile(path);
    throw err;
  }
}
