// What the archive builds, entry by entry: refuses duplicates, case collisions, entries under a
// file or link, hardlinks to anything but an earlier regular file, and — once every entry is
// known, since links may come in any order — symlinks that resolve outside the destination when
// followed through the archive's own symlinks (a fresh directory holds nothing else).
import type { ArchiveLimits } from "./limits.js";
import { collisionKey } from "./paths.js";
import { ArchiveRule, reject } from "./reject.js";
import type { EntryType } from "./types.js";

interface Node {
  type: EntryType;
  /** False for a directory only implied by a deeper entry's path. */
  explicit: boolean;
  /** The entry's name as written, for messages. */
  name: string;
  linkTarget?: string;
}

/** Most symlinks followed while resolving one link (Linux's own limit is 40). */
const MAX_HOPS = 40;

export class Tree {
  private readonly nodes = new Map<string, Node>();
  private readonly folded = new Map<string, string>();

  constructor(private readonly limits: ArchiveLimits) {}

  add(name: string, path: string, type: EntryType, linkTarget?: string): void {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const node = this.nodes.get(parent);
      if (node === undefined) this.insert(name, parent, { type: "directory", explicit: false, name });
      else if (node.type !== "directory") {
        reject(name, ArchiveRule.PATH_CONFLICT, `a parent, ${JSON.stringify(node.name)}, is a ${node.type}`);
      }
    }
    const existing = this.nodes.get(path);
    if (existing !== undefined) {
      if (existing.type === "directory" && type === "directory" && !existing.explicit) {
        existing.explicit = true;
        return;
      }
      if (existing.type === "directory" && !existing.explicit) {
        reject(name, ArchiveRule.PATH_CONFLICT, "an earlier entry uses this path as a directory");
      }
      reject(name, ArchiveRule.DUPLICATE_PATH, "the path appears twice");
    }
    if (type === "hardlink") {
      const target = this.nodes.get(linkTarget ?? "");
      if (target?.type !== "file") {
        reject(
          name,
          ArchiveRule.HARDLINK_TARGET,
          "a hardlink must name an earlier regular file of the archive",
        );
      }
    }
    this.insert(name, path, { type, explicit: true, name, linkTarget });
  }

  /** Called once every entry is in: resolves each symlink through the others. */
  finish(): void {
    for (const [path, node] of this.nodes) {
      if (node.type !== "symlink") continue;
      const hops = { n: 0 };
      this.resolve(node.name, path.split("/").slice(0, -1), node.linkTarget ?? "", hops);
    }
  }

  private insert(name: string, path: string, node: Node): void {
    if (this.limits.refuseCaseCollisions) {
      const key = collisionKey(path);
      const other = this.folded.get(key);
      if (other !== undefined && other !== path) {
        reject(
          name,
          ArchiveRule.CASE_COLLISION,
          `differs from ${JSON.stringify(other)} only in case or normalisation`,
        );
      }
      this.folded.set(key, path);
    }
    this.nodes.set(path, node);
  }

  private resolve(name: string, start: string[], target: string, hops: { n: number }): string[] {
    if (target.startsWith("/"))
      reject(name, ArchiveRule.SYMLINK_ESCAPE, "the link target is an absolute path");
    let cur = [...start];
    for (const c of target.split("/")) {
      if (c === "" || c === ".") continue;
      if (c === "..") {
        if (cur.length === 0)
          reject(name, ArchiveRule.SYMLINK_ESCAPE, "the link resolves outside the destination");
        cur.pop();
        continue;
      }
      cur.push(c);
      const node = this.nodes.get(cur.join("/"));
      if (node?.type === "symlink") {
        hops.n += 1;
        if (hops.n > MAX_HOPS)
          reject(name, ArchiveRule.SYMLINK_LOOP, `more than ${MAX_HOPS} links deep, or a loop`);
        cur = this.resolve(name, cur.slice(0, -1), node.linkTarget ?? "", hops);
      }
    }
    return cur;
  }
}
