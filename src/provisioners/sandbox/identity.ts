// The job user in the machine's passwd and group: `whoami`, `id -un`, `getent passwd $(id -u)`, ~
// and tools that look the user up (ssh, git's default identity, pip --user) need an entry for the
// sandbox's uid, which the host's /etc (or an image built elsewhere) does not have, or has for
// someone else. The rootfs is never written to: the root's own passwd and group are read (bounded,
// regular files only), any entry for the runner's name or uid is dropped, `runner` (uid/gid 1001,
// the machine's home, /bin/bash: as on GitHub's hosted runners and in src/images) is appended, and the result is
// written once per content into the provisioner's folder, to be bound read-only over /etc/passwd
// and /etc/group (args.ts).
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

export const RUNNER_NAME = "runner";
/** Larger account files are not read (the runner's entry alone is used). */
const MAX_ACCOUNT_FILE = 4 * 1024 * 1024;

export interface IdentityFiles {
  /** Host paths of the generated files. */
  passwd: string;
  group: string;
  /**
   * How they reach /etc: "bind" over the root's own files, "create" in an /etc the root lacks
   * (a fresh folder in bwrap's tmpfs root), or "none" when neither is possible (see mountable).
   */
  mount: "bind" | "create" | "none";
}

type Kind = "file" | "dir" | "missing" | "other";

function kind(p: string): Kind {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (st === undefined) return "missing";
  return st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
}

/** A regular file's text, or "" when it is absent, not a regular file or too large. */
function readAccountFile(p: string): string {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink in an image must not make us read a host file.
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return "";
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_ACCOUNT_FILE) return "";
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Lines of an account file without the entries whose name or numeric id (3rd field) is taken. */
function without(text: string, name: string, id: number): string[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => {
      const f = line.split(":");
      return f[0] !== name && f[2] !== String(id);
    });
}

/** passwd and group contents for a root: its own entries plus the runner user. */
export function accountContents(
  passwdText: string,
  groupText: string,
  uid: number,
  gid: number,
  home: string,
): { passwd: string; group: string } {
  const passwd = [
    ...without(passwdText, RUNNER_NAME, uid),
    `${RUNNER_NAME}:x:${uid}:${gid}:Airlock runner:${home}:/bin/bash`,
  ];
  const group = [...without(groupText, RUNNER_NAME, gid), `${RUNNER_NAME}:x:${gid}:`];
  return { passwd: `${passwd.join("\n")}\n`, group: `${group.join("\n")}\n` };
}

/**
 * How the files can be mounted in a root: over existing regular files; into a missing /etc when
 * the sandbox root is bwrap's own tmpfs (`single` false: the rootfs is bound entry by entry);
 * otherwise not at all (a read-only mount has no room for a new mount point).
 */
export function mountable(root: string, single: boolean): IdentityFiles["mount"] {
  const etc = kind(path.join(root, "etc"));
  if (etc === "missing") return single ? "none" : "create";
  if (etc !== "dir") return "none";
  const ok = (f: string): boolean => kind(path.join(root, "etc", f)) === "file";
  return ok("passwd") && ok("group") ? "bind" : "none";
}

/** Generated files by root, home and the root's files' change times: one read per change. */
const cache = new Map<string, IdentityFiles>();

/** Writes (once per content) the files for `root` into `dir`; returns where they are. */
export function identityFiles(
  dir: string,
  root: string,
  single: boolean,
  uid: number,
  gid: number,
  home: string,
): IdentityFiles {
  const stamp = (f: string): string => {
    const st = lstatSync(path.join(root, "etc", f), { throwIfNoEntry: false });
    return st ? `${st.mtimeMs}/${st.size}/${st.ino}` : "-";
  };
  const key = [dir, root, single, uid, gid, home, stamp("passwd"), stamp("group")].join("\0");
  const known = cache.get(key);
  if (known && kind(known.passwd) === "file" && kind(known.group) === "file") return known;
  const mount = mountable(root, single);
  const { passwd, group } = accountContents(
    readAccountFile(path.join(root, "etc", "passwd")),
    readAccountFile(path.join(root, "etc", "group")),
    uid,
    gid,
    home,
  );
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const write = (suffix: string, text: string): string => {
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 32);
    const file = path.join(dir, `${hash}.${suffix}`);
    // Named by content: a file already there is the one wanted. Written aside and renamed, so a
    // machine started meanwhile never binds a half-written file.
    if (kind(file) !== "file") {
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, text, { mode: 0o644 });
      chmodSync(tmp, 0o644); // whatever the umask: the sandbox's unprivileged uid reads it
      renameSync(tmp, file);
    }
    return file;
  };
  const files = { passwd: write("passwd", passwd), group: write("group", group), mount };
  cache.set(key, files);
  return files;
}
