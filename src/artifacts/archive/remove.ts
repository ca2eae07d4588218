// Removes a half-extracted directory even where the archive made parts of it read-only: on EACCES
// the tree is made writable (never following symlinks) and removal is tried again.
import { chmod, lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeWritable(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (st === null || !st.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await makeWritable(join(path, name));
}
