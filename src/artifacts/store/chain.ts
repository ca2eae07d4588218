// An upload's running digest, kept while its parts are staged, so its commit need not read every
// byte again. Clients stage blocks in the order their block list will name them (the Azure SDK
// starts block n+1 after block n), so the local store hashes each staged part, in the order its
// putPart began, right after it is written (from the page cache, in the background). A commit
// whose block list starts with that sequence resumes from the digest's state after it and hashes
// only the rest; any other order just hashes everything, as before. A part counts only when the
// file the commit links is the very file hashed: same inode, modification time and size (a part's
// file is never written after it is staged; staging it again makes a new file).
import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";

/** A staged file's identity: a new file (even one reusing the inode) differs in mtime. */
export interface FileId {
  ino: bigint;
  mtimeNs: bigint;
  size: bigint;
}

const sameFile = (a: FileId, b: FileId): boolean =>
  a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.size === b.size;

/** Parts followed at most per upload (each keeps a copy of the digest's state, a few hundred bytes). */
const MAX_PARTS = 4096;
const READ_CHUNK = 1024 * 1024;

export interface Slot {
  /** The part is staged at `path` (renamed into place). */
  staged(path: string): void;
  /** The part was not staged: it is left out. */
  failed(): void;
}

export class HashChain {
  private hash: Hash = createHash("sha256");
  private readonly done: Array<{ part: string; id: FileId; after: Hash }> = [];
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private broken = false;

  /** Takes the next place in the sequence for `part`; call `staged` or `failed` once it is known. */
  reserve(part: string): Slot {
    let settle: (path: string | undefined) => void = () => undefined;
    const ready = new Promise<string | undefined>((resolve) => (settle = resolve));
    this.pending++;
    this.tail = this.tail.then(async () => {
      const path = await ready;
      if (path === undefined || this.broken) return;
      // Staged again, or too many: the sequence ends here (a commit hashes the rest itself).
      if (this.done.length >= MAX_PARTS || this.done.some((d) => d.part === part)) {
        this.broken = true;
        return;
      }
      await this.add(part, path).catch(() => {
        this.broken = true;
      });
    });
    let settled = false;
    const once = (path: string | undefined): void => {
      if (settled) return;
      settled = true;
      this.pending--;
      settle(path);
    };
    return { staged: (path) => once(path), failed: () => once(undefined) };
  }

  private async add(part: string, path: string): Promise<void> {
    const fh = await open(path, "r");
    try {
      const st = await fh.stat({ bigint: true });
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const scratch = this.hash.copy();
      let size = 0n;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        size += BigInt(bytesRead);
        scratch.update(buf.subarray(0, bytesRead));
      }
      if (size !== st.size) throw new Error("a staged part changed size while hashed");
      // Only now, whole, into the running digest (a failed read leaves it as it was).
      this.hash = scratch;
      this.done.push({
        part,
        id: { ino: st.ino, mtimeNs: st.mtimeNs, size: st.size },
        after: scratch.copy(),
      });
    } finally {
      await fh.close();
    }
  }

  /**
   * How much of a commit of `parts` (whose linked files are `ids`) is hashed already: the number of
   * leading parts and the digest's state after them (a copy, the caller's to update), or none.
   * Waits for the hashing in progress when every part has been staged; never for a part in flight.
   */
  async prefix(parts: string[], ids: FileId[]): Promise<{ count: number; hash: Hash } | undefined> {
    if (this.pending === 0) await this.tail;
    let n = 0;
    while (n < parts.length && n < this.done.length) {
      const d = this.done[n]!;
      if (d.part !== parts[n] || !sameFile(d.id, ids[n]!)) break;
      n++;
    }
    return n === 0 ? undefined : { count: n, hash: this.done[n - 1]!.after.copy() };
  }
}
