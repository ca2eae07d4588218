// A race-free private copy of a Docker action's build context. The context lives in the job's
// workspace (or actions folder), which the job's processes may change at any moment — a process
// left running in the background can swap a folder for a symlink to the host's / right after any
// check. So every folder and file is opened without following symlinks, relative to its already
// opened parent (/proc/self/fd/N/name), and the opened object's real path is checked to be inside
// the machine before anything is read; symlinks are copied as symlinks (the image builder resolves
// them inside the context) — except an ignore file (`.dockerignore`, `.containerignore`, also as
// `<Dockerfile>.dockerignore`), which the builder reads on the host, following links: a symlinked
// one is refused. Bounded: a job decides how large its context is, and each file is read up to the
// size it had when it was measured (a file the job grows meanwhile is cut there, never read further).
import { constants } from "node:fs";
import { mkdir, open, readdir, readlink, symlink, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface CopyLimits {
  maxBytes: number;
  maxEntries: number;
}

export const CONTEXT_LIMITS: CopyLimits = { maxBytes: 512 * 1024 * 1024, maxEntries: 100_000 };

/** Test seam: called between a file's stat and its read (a job may change the file right then). */
export interface CopyHooks {
  afterStat?(name: string): void | Promise<void>;
}

/** Files the image builder reads on the host (and follows symlinks to). */
export function isIgnoreFile(name: string): boolean {
  return /\.(docker|container)ignore$/.test(name);
}

/** Reads at most `size` bytes of `fh` from its start. */
async function readUpTo(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === size ? buf : buf.subarray(0, got);
}

const NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Copies the folder `src` (a host path) into the new folder `dest`; `roots` are the host folders
 * (real paths) the copied objects must be inside. Throws MACHINE_PATH_ESCAPE or ACTION_INVALID.
 */
export async function copyContext(
  src: string,
  dest: string,
  roots: readonly string[],
  limits: CopyLimits = CONTEXT_LIMITS,
  hooks: CopyHooks = {},
): Promise<void> {
  const inside = (p: string): boolean => roots.some((r) => p === r || p.startsWith(`${r}/`));
  const budget = { bytes: 0, entries: 0 };
  const checked = async (fh: FileHandle, shown: string): Promise<void> => {
    const real = await readlink(`/proc/self/fd/${fh.fd}`);
    if (!inside(real))
      throw new AirlockError(
        ErrorCode.MACHINE_PATH_ESCAPE,
        `the build context leads out of the machine at ${shown}`,
      );
  };
  // A symlink where a folder or file was listed: the tree changed under us (or is one): refused.
  const openNoLink = (p: string, flags: number, shown: string): Promise<FileHandle> =>
    open(p, flags).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOOP" || code === "ENOTDIR")
        throw new AirlockError(
          ErrorCode.MACHINE_PATH_ESCAPE,
          `the build context holds a symlink where a folder or file was (${shown})`,
          { cause: err },
        );
      throw err;
    });
  const walk = async (dirPath: string, out: string, shown: string): Promise<void> => {
    const dir = await openNoLink(dirPath, NOFOLLOW | constants.O_DIRECTORY, shown);
    try {
      await checked(dir, shown);
      await mkdir(out, { mode: 0o755 });
      const base = `/proc/self/fd/${dir.fd}`;
      for (const e of await readdir(base, { withFileTypes: true })) {
        if (++budget.entries > limits.maxEntries)
          throw new AirlockError(
            ErrorCode.ACTION_INVALID,
            `the build context has more than ${limits.maxEntries} entries`,
          );
        const from = `${base}/${e.name}`;
        const to = path.join(out, e.name);
        const name = `${shown}/${e.name}`;
        if (e.isSymbolicLink()) {
          if (isIgnoreFile(e.name))
            throw new AirlockError(
              ErrorCode.MACHINE_PATH_ESCAPE,
              `the build context's ${name} is a symlink (the image builder would follow it on the host)`,
            );
          await symlink(await readlink(from), to);
        } else if (e.isDirectory()) await walk(from, to, name);
        else if (e.isFile()) {
          const fh = await openNoLink(from, NOFOLLOW, name);
          try {
            await checked(fh, name);
            const st = await fh.stat();
            if (!st.isFile()) continue;
            budget.bytes += st.size;
            if (budget.bytes > limits.maxBytes)
              throw new AirlockError(
                ErrorCode.ACTION_INVALID,
                `the build context is larger than ${limits.maxBytes} bytes`,
              );
            await hooks.afterStat?.(name);
            await writeFile(to, await readUpTo(fh, st.size), { mode: st.mode & 0o755, flag: "wx" });
          } finally {
            await fh.close();
          }
        }
        // Sockets, FIFOs and devices are left out.
      }
    } finally {
      await dir.close();
    }
  };
  await walk(src, dest, ".");
}
