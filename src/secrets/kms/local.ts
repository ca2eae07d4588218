// The `local` KMS provider (the default): AES-256 keys in one key file on the server, mode 0600,
// made at the first start. The file holds every key not yet retired, oldest first; the last one
// wraps, all of them unwrap. Rotation appends a key; retiring removes one. The file is replaced
// atomically (write a temporary file, fsync, rename), and re-read whenever it changed (checked
// at every wrap and unwrap), so a server keeps working while `airlock secrets rotate` runs in
// another process. A key file readable by other users is refused, as ssh refuses such keys.
import { createHash, randomBytes } from "node:crypto";
import { chown, link, mkdir, open as openFile, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { KEY_BYTES, open, pack, seal, unpack, wipe } from "../envelope.js";
import type { Kms, WrappedKey } from "./types.js";

const HEADER = [
  "# Airlock KMS key file (kms.keyFile). Back it up apart from the database: without it no",
  "# secret can be read. One key per line, oldest first: <key id> <base64 of 32 bytes>.",
  "# The last key wraps new data keys; `airlock secrets rotate` adds one.",
];
const LINE = /^(local-(\d+)-[0-9a-f]{8}) ([A-Za-z0-9+/]{43}=)$/;

interface Key {
  id: string;
  version: number;
  key: Buffer;
}

function keyId(version: number, key: Buffer): string {
  const fp = createHash("sha256").update("airlock-kms-key-id\0").update(key).digest("hex").slice(0, 8);
  return `local-${version}-${fp}`;
}

function failed(message: string, cause?: unknown): AirlockError {
  return new AirlockError(ErrorCode.KMS_FAILED, message, cause === undefined ? {} : { cause });
}

function parse(file: string, text: string): Key[] {
  const keys: Key[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = LINE.exec(line);
    const key = m ? Buffer.from(m[3]!, "base64") : undefined;
    if (!m || !key || key.length !== KEY_BYTES || keyId(Number(m[2]), key) !== m[1])
      throw failed(`kms.keyFile: ${file} line ${i + 1} is not an Airlock key line`);
    keys.push({ id: m[1], version: Number(m[2]), key });
  });
  if (keys.length === 0) throw failed(`kms.keyFile: ${file} holds no key`);
  return keys;
}

function render(keys: Key[]): string {
  return [...HEADER, ...keys.map((k) => `${k.id} ${k.key.toString("base64")}`)].join("\n") + "\n";
}

function newKey(version: number): Key {
  const key = randomBytes(KEY_BYTES);
  return { id: keyId(version, key), version, key };
}

/** Writes `text` to a fresh temporary file beside `file` (0600, fsynced); returns its path. */
async function writeTemp(file: string, text: string): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const h = await openFile(tmp, "wx", 0o600);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  return tmp;
}

export interface LocalKmsOptions {
  /** Make the key file when it does not exist (the first start); otherwise its absence is an error. */
  create: boolean;
}

export async function openLocalKms(file: string, o: LocalKmsOptions): Promise<Kms> {
  const exists = await stat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw failed(`kms.keyFile: ${file} cannot be read (${err.code ?? String(err)})`, err);
    },
  );
  if (!exists) {
    if (!o.create)
      throw new AirlockError(
        ErrorCode.KMS_KEY_MISSING,
        `kms.keyFile: ${file} does not exist, but data keys were wrapped by local keys: restore it from its backup`,
      );
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = await writeTemp(file, render([newKey(1)]));
    // link() fails when the file exists: of two processes starting at once, one key file wins.
    await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw failed(`kms.keyFile: ${file} cannot be written (${err.code})`, err);
    });
    await unlink(tmp);
  }
  const kms = new LocalKms(file);
  await kms.load();
  return kms;
}

class LocalKms implements Kms {
  readonly provider = "local";
  private keys: Key[] = [];
  /** Which file contents `keys` came from (inode, size, mtime). */
  private version = "";

  constructor(private readonly file: string) {}

  /** The keys in the file: re-read when it changed (another process rotated), else as read before. */
  async load(): Promise<Key[]> {
    let text: string;
    try {
      const s = await stat(this.file);
      if ((s.mode & 0o077) !== 0)
        throw failed(
          `kms.keyFile: ${this.file} is open to other users (mode ${(s.mode & 0o777).toString(8)}): chmod 600 ${this.file}`,
        );
      const version = `${s.ino}:${s.size}:${s.mtimeMs}`;
      if (version === this.version) return this.keys;
      text = await readFile(this.file, "utf8");
      this.version = version;
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw failed(`kms.keyFile: ${this.file} cannot be read (${code})`, err);
    }
    // The keys read before are not wiped here: a wrap or unwrap in flight may still hold them.
    this.keys = parse(this.file, text);
    return this.keys;
  }

  private async current(): Promise<Key> {
    const keys = await this.load();
    return keys[keys.length - 1]!;
  }

  async currentKeyId(): Promise<string> {
    return (await this.current()).id;
  }

  async keyIds(): Promise<string[]> {
    return (await this.load()).map((k) => k.id);
  }

  async wrap(dek: Buffer, context: Buffer): Promise<WrappedKey> {
    const k = await this.current();
    return { keyId: k.id, wrapped: pack(seal(k.key, dek, context)) };
  }

  async unwrap(w: WrappedKey, context: Buffer): Promise<Buffer> {
    // Re-checked every time: a key retired by another process stops unwrapping here too.
    const k = (await this.load()).find((key) => key.id === w.keyId);
    if (!k)
      throw new AirlockError(
        ErrorCode.KMS_KEY_MISSING,
        `the KMS key ${w.keyId} is not in ${this.file} (retired, or another key file)`,
      );
    return open(k.key, unpack(w.wrapped), context, `a data key wrapped by ${w.keyId}`);
  }

  async createKey(): Promise<string> {
    const keys = await this.load();
    const made = newKey(Math.max(...keys.map((k) => k.version)) + 1);
    await this.replace([...keys, made]);
    return made.id;
  }

  async destroyKey(id: string): Promise<void> {
    const keys = await this.load();
    if (keys[keys.length - 1]!.id === id)
      throw new AirlockError(ErrorCode.USAGE, `the KMS key ${id} is the current key: it cannot be retired`);
    if (!keys.some((k) => k.id === id)) return;
    await this.replace(keys.filter((k) => k.id !== id));
  }

  private async replace(keys: Key[]): Promise<void> {
    const tmp = await writeTemp(this.file, render(keys));
    try {
      // Root rotating the key file of a server that runs as another user keeps it that user's.
      const owner = await stat(this.file);
      if (process.getuid?.() === 0 && owner.uid !== 0) await chown(tmp, owner.uid, owner.gid);
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw failed(
        `kms.keyFile: ${this.file} cannot be replaced (${(err as NodeJS.ErrnoException).code})`,
        err,
      );
    }
    await this.load();
  }

  close(): Promise<void> {
    wipe(...this.keys.map((k) => k.key));
    this.keys = [];
    this.version = "";
    return Promise.resolve();
  }
}
