// Where a node agent keeps its credential. The file store writes a new credential the way that
// survives a crash at any instant: a temporary file (mode 0600) in the same folder, written and
// synced, renamed over the old file, then the folder synced — so the file holds the old credential
// or the new one, never a mix or nothing. Until the agent says `credential-saved` the orchestrator
// accepts either (src/protocol/agent.ts), so whichever survived works.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface CredentialStore {
  /** Where the credential is kept, for messages. */
  readonly where: string;
  /** The saved credential, or undefined when there is none yet (the node is not registered). */
  load(): Promise<string | undefined>;
  /** Replaces the saved credential durably; once it resolves, a crash leaves the new one. */
  save(credential: string): Promise<void>;
}

/** Longest file read as a credential (they are 80 characters). */
const MAX_BYTES = 1024;

/**
 * A credential file. Its folder is made 0700 when missing; the file is always written 0600, and a
 * file that others may read or write is refused (as ssh refuses such a private key).
 */
export function fileCredentialStore(path: string): CredentialStore {
  return {
    where: path,
    async load() {
      let info;
      try {
        info = await stat(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
      if (!info.isFile() || info.size > MAX_BYTES)
        throw new AirlockError(ErrorCode.CONFIG_INVALID, `node credential file ${path} is not a credential`);
      if ((info.mode & 0o077) !== 0)
        throw new AirlockError(
          ErrorCode.CONFIG_INVALID,
          `node credential file ${path} is open to other users (mode ${(info.mode & 0o777).toString(8)}): chmod 600 ${path}`,
        );
      const text = (await readFile(path, "utf8")).trim();
      if (text === "")
        throw new AirlockError(ErrorCode.CONFIG_INVALID, `node credential file ${path} is empty`);
      return text;
    },
    async save(credential) {
      const dir = dirname(path);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
      const file = await open(tmp, "wx", 0o600);
      try {
        await file.writeFile(`${credential}\n`);
        await file.sync();
      } catch (err) {
        await file.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      await file.close();
      try {
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      const folder = await open(dir, "r");
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
  };
}

/** A credential held in memory only (tests, and agents whose credential lives elsewhere). */
export function memoryCredentialStore(initial?: string): CredentialStore & { current(): string | undefined } {
  let value = initial;
  return {
    where: "memory",
    current: () => value,
    load: () => Promise.resolve(value),
    save(credential) {
      value = credential;
      return Promise.resolve();
    },
  };
}
