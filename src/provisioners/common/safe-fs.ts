// Host-side file access to a machine's private folders that never follows a symlink out of them.
//
// Job processes control the contents of those folders and may race us (a background process can
// swap a directory for a symlink to /etc at any moment), so a realpath-then-open check is not
// enough. Instead every path component is opened relative to an already-open directory with
// O_NOFOLLOW, using `/proc/self/fd/<dirfd>/<name>` as Node's stand-in for openat(2): the kernel
// resolves the magic link to the directory the fd holds (not to a path), then looks up only
// `name`. A symlink met on the way is resolved by us as an *inner* path and the walk restarts from
// the mapped root, so links that stay inside the machine work and links leading out are refused
// with MACHINE_PATH_ESCAPE.
import { constants as C, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";

/** One private folder: `inner` as seen by job processes, `host` where it really lives. */
export interface FsRoot {
  inner: string;
  host: string;
}

export interface MachineFsOptions {
  roots: FsRoot[];
  /** Owner given to everything the host creates, so job processes can modify it (sandbox uid). */
  owner?: { uid: number; gid: number } | undefined;
}

const MAX_HOPS = 40;
const fdPath = (fd: number, name?: string) =>
  name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

function escape(inner: string, why: string): AirlockError {
  return new AirlockError(ErrorCode.MACHINE_PATH_ESCAPE, `${inner}: ${why}`);
}

interface Mapped {
  root: FsRoot;
  parts: string[];
}

interface Walked {
  dir: FileHandle;
  /** Last component; undefined when the path is the root folder itself. */
  name: string | undefined;
  /** Inner path of `dir`, to resolve relative symlink targets against. */
  innerDir: string;
}

export class MachineFs {
  private readonly roots: FsRoot[];
  private readonly owner: MachineFsOptions["owner"];

  constructor(opts: MachineFsOptions) {
    // Longest inner prefix first, so nested roots (if any) win.
    this.roots = [...opts.roots].sort((a, b) => b.inner.length - a.inner.length);
    this.owner = opts.owner;
  }

  /** Lexical inner → host mapping for the private folders; no symlink is looked at. */
  hostPath(inner: string): string | undefined {
    const m = this.map(inner);
    return m === undefined ? undefined : path.join(m.root.host, ...m.parts);
  }

  async readFile(inner: string, opts: { maxBytes?: number } = {}): Promise<Buffer | undefined> {
    return this.withFinal(inner, false, async (w, cur) => {
      if (w.name === undefined) throw escape(cur, "is a directory");
      let fh: FileHandle;
      try {
        fh = await fsp.open(fdPath(w.dir.fd, w.name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      } catch (e) {
        if (errCode(e) === "ENOENT") return undefined;
        throw e;
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw escape(cur, "not a regular file");
        if (opts.maxBytes !== undefined && st.size > opts.maxBytes) {
          throw new AirlockError(
            ErrorCode.MACHINE_FILE_TOO_LARGE,
            `${inner} is ${st.size} bytes, more than the ${opts.maxBytes} allowed`,
            { details: { size: st.size } },
          );
        }
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    });
  }

  async writeFile(inner: string, data: string | Uint8Array): Promise<void> {
    await this.withFinal(inner, true, async (w, cur) => {
      if (w.name === undefined) throw escape(cur, "is a directory");
      const flags = C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW | C.O_NONBLOCK;
      const fh = await fsp.open(fdPath(w.dir.fd, w.name), flags, 0o644);
      try {
        if (!(await fh.stat()).isFile()) throw escape(cur, "not a regular file");
        if (this.owner) await fh.chown(this.owner.uid, this.owner.gid);
        await fh.writeFile(data);
      } finally {
        await fh.close();
      }
    });
  }

  /** Replaces whatever is at `inner` with a copy of the host file/folder `src` (symlinks copied as links). */
  async copyIn(src: string, inner: string): Promise<void> {
    const st = await fsp.lstat(src);
    const w = await this.walk(inner, true);
    try {
      if (w.name === undefined) {
        // Copying onto a root folder: replace its contents, keep the folder (it is a mount point).
        if (!st.isDirectory()) throw escape(inner, "cannot replace a machine folder with a file");
        for (const e of await fsp.readdir(fdPath(w.dir.fd))) await this.removeAt(w.dir.fd, e);
        for (const e of await fsp.readdir(src)) await this.copyAt(path.join(src, e), w.dir.fd, e);
      } else {
        await this.removeAt(w.dir.fd, w.name);
        await this.copyAt(src, w.dir.fd, w.name);
      }
    } finally {
      await w.dir.close();
    }
  }

  private map(inner: string): Mapped | undefined {
    if (!path.posix.isAbsolute(inner)) return undefined;
    const norm = path.posix.normalize(inner);
    for (const root of this.roots) {
      if (norm === root.inner || norm.startsWith(root.inner + "/")) {
        return { root, parts: norm.slice(root.inner.length).split("/").filter(Boolean) };
      }
    }
    return undefined;
  }

  /**
   * Walks to the parent of the final component and runs `fn`; when the final component turns out
   * to be a symlink (ELOOP from O_NOFOLLOW), resolves it as an inner path and tries again.
   */
  private async withFinal<T>(
    inner: string,
    create: boolean,
    fn: (w: Walked, cur: string) => Promise<T>,
  ): Promise<T> {
    let cur = inner;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      let w: Walked;
      try {
        w = await this.walk(cur, create);
      } catch (e) {
        if (!create && errCode(e) === "ENOENT") return undefined as T;
        throw e;
      }
      try {
        return await fn(w, cur);
      } catch (e) {
        if (errCode(e) !== "ELOOP" || w.name === undefined) throw e;
        const target = await fsp.readlink(fdPath(w.dir.fd, w.name));
        cur = path.posix.resolve(w.innerDir, target);
      } finally {
        await w.dir.close();
      }
    }
    throw escape(inner, "too many levels of symbolic links");
  }

  private async walk(inner: string, create: boolean, hops = 0): Promise<Walked> {
    if (hops > MAX_HOPS) throw escape(inner, "too many levels of symbolic links");
    const m = this.map(inner);
    if (m === undefined) throw escape(inner, "outside the machine's private folders");
    let dir = await fsp.open(m.root.host, C.O_RDONLY | C.O_DIRECTORY);
    let innerDir = m.root.inner;
    const last = m.parts.length - 1;
    try {
      for (let i = 0; i < last; i++) {
        const name = m.parts[i] as string;
        const next = await this.openDir(dir, name, create);
        if (typeof next === "string") {
          // A symlink: continue from its target, read as an inner path.
          await dir.close();
          const rest = m.parts.slice(i + 1);
          return await this.walk(path.posix.resolve(innerDir, next, ...rest), create, hops + 1);
        }
        await dir.close();
        dir = next;
        innerDir = path.posix.join(innerDir, name);
      }
    } catch (e) {
      await dir.close().catch(() => undefined);
      throw e;
    }
    return { dir, name: last < 0 ? undefined : m.parts[last], innerDir };
  }

  /** Opens a subdirectory without following a symlink; returns the link target if it is one. */
  private async openDir(dir: FileHandle, name: string, create: boolean): Promise<FileHandle | string> {
    const p = fdPath(dir.fd, name);
    for (;;) {
      try {
        return await fsp.open(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
      } catch (e) {
        const code = errCode(e);
        if (code === "ELOOP" || code === "ENOTDIR") {
          const st = await fsp.lstat(p);
          if (st.isSymbolicLink()) return await fsp.readlink(p);
          throw e;
        }
        if (code !== "ENOENT" || !create) throw e;
        try {
          await fsp.mkdir(p, 0o755);
          if (this.owner) await fsp.lchown(p, this.owner.uid, this.owner.gid);
        } catch (me) {
          if (errCode(me) !== "EEXIST") throw me;
        }
      }
    }
  }

  /** Removes `name` in `dirFd` recursively without ever following a symlink. */
  private async removeAt(dirFd: number, name: string): Promise<void> {
    const p = fdPath(dirFd, name);
    let sub: FileHandle;
    try {
      sub = await fsp.open(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (e) {
      const code = errCode(e);
      if (code === "ENOENT") return;
      if (code === "ELOOP" || code === "ENOTDIR") return await fsp.unlink(p);
      throw e;
    }
    try {
      for (const e of await fsp.readdir(fdPath(sub.fd))) await this.removeAt(sub.fd, e);
    } finally {
      await sub.close();
    }
    await fsp.rmdir(p);
  }

  /** Copies host `src` to a fresh entry `name` in `dirFd`; O_EXCL-style creation never follows links. */
  private async copyAt(src: string, dirFd: number, name: string): Promise<void> {
    const st = await fsp.lstat(src);
    const p = fdPath(dirFd, name);
    if (st.isSymbolicLink()) {
      await fsp.symlink(await fsp.readlink(src), p);
    } else if (st.isDirectory()) {
      await fsp.mkdir(p, st.mode & 0o777);
      const sub = await fsp.open(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
      try {
        for (const e of await fsp.readdir(src)) await this.copyAt(path.join(src, e), sub.fd, e);
      } finally {
        await sub.close();
      }
    } else if (st.isFile()) {
      await fsp.copyFile(src, p, C.COPYFILE_EXCL);
    } else {
      return; // sockets, fifos, devices: never copied in
    }
    if (this.owner) await fsp.lchown(p, this.owner.uid, this.owner.gid);
  }
}
