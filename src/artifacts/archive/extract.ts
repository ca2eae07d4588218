// Extraction that is all or nothing: everything goes into a fresh private directory beside the
// destination, which is renamed into place only after the whole archive passed every check; on any
// refusal or failure that directory is removed and the destination was never touched. Files are
// created with O_EXCL|O_NOFOLLOW in directories we made; symlinks are made last (after they were
// all resolved), and directory modes are applied last so read-only directories do not block writes.
import { constants } from "node:fs";
import { chmod, link, lstat, mkdir, mkdtemp, open, rename, symlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { resolveLimits, type ArchiveLimits } from "./limits.js";
import { removeTree } from "./remove.js";
import type { ArchiveEntry, ArchiveSource } from "./types.js";
import { walkArchive } from "./walk.js";

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Extracts a zip, tar or tar.gz into `destDir`, which must not exist yet (its parent must).
 * Returns the entries written. Throws ARCHIVE_REJECTED (nothing written) or CONFLICT (destination exists).
 */
export async function extractArchive(
  source: ArchiveSource,
  destDir: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveEntry[]> {
  const dest = resolve(destDir);
  if (await exists(dest))
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `extraction destination ${JSON.stringify(dest)} exists already`,
    );
  const tmp = await mkdtemp(join(dirname(dest), `.${basename(dest)}.extract-`));
  try {
    const entries = await writeAll(source, tmp, resolveLimits(limits));
    await rename(tmp, dest);
    return entries;
  } catch (err) {
    await removeTree(tmp);
    throw err;
  }
}

async function writeAll(source: ArchiveSource, root: string, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const dirs: ArchiveEntry[] = [];
  const links: ArchiveEntry[] = [];
  for await (const { entry, body } of walkArchive(source, limits)) {
    entries.push(entry);
    const at = join(root, entry.path);
    if (entry.type === "directory") {
      await mkdir(at, { recursive: true });
      dirs.push(entry);
      continue;
    }
    await mkdir(dirname(at), { recursive: true });
    if (entry.type === "symlink") links.push(entry);
    else if (entry.type === "hardlink") await link(join(root, entry.linkTarget ?? ""), at);
    else if (body !== null) await writeFile(at, entry.mode, body);
  }
  // The walk ended: every entry and every link target passed.
  for (const l of links) await symlink(l.linkTarget ?? "", join(root, l.path));
  dirs.sort((a, b) => b.path.split("/").length - a.path.split("/").length);
  for (const d of dirs) await chmod(join(root, d.path), d.mode);
  await chmod(root, 0o755);
  return entries;
}

async function writeFile(at: string, mode: number, body: AsyncIterable<Buffer>): Promise<void> {
  const fh = await open(at, FILE_FLAGS, 0o600);
  try {
    for await (const chunk of body) await fh.write(chunk);
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
