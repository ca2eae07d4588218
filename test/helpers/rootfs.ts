// Builds a tiny root filesystem for image-mode tests: the given binaries and their shared
// libraries, copied from the host (cheap, no registry needed).
import { execFileSync } from "node:child_process";
import { cp, mkdir } from "node:fs/promises";
import path from "node:path";

export async function buildTinyRootfs(
  root: string,
  bins: string[] = ["/bin/sh", "/usr/bin/cat"],
): Promise<void> {
  const files = new Set<string>();
  for (const bin of bins) {
    files.add(bin);
    for (const m of execFileSync("ldd", [bin])
      .toString()
      .matchAll(/(\/\S+)/g))
      files.add(m[1] as string);
  }
  for (const f of files) {
    await mkdir(path.join(root, path.dirname(f)), { recursive: true });
    await cp(f, path.join(root, f), { dereference: true });
  }
}
