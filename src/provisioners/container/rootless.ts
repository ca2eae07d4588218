// Rootless mode of the container provisioner: when the agent is not root, podman runs as the
// agent's own user in its user namespace (newuidmap/newgidmap map the user's subordinate ranges of
// /etc/subuid and /etc/subgid onto ids 1..N of that namespace; id 0 there is the user itself).
//
// Identity: each machine gets its own slot of 65536 ids of that range (like root mode's per-machine
// host ranges): uid 0 inside is a subordinate host uid unique to the machine. The job's user (1001)
// is mapped onto the agent's own uid, as the sandbox does when not root: the agent can then write
// the machine's folders and kill its steps without privileges (docs/isolation.md, "Rootless").
// Storage: Airlock's own storage.conf (overlay in a folder of the user's home, or a configured one)
// so that the user's own podman settings and images are neither used nor disturbed.
import { createHash } from "node:crypto";
import { existsSync, promises as fsp, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { INNER_GID, INNER_UID } from "../common/layout.js";
import { ID_RANGE } from "./args.js";
import type { Podman } from "./podman.js";

/** The ranges of `user` (name or uid) in an /etc/subuid-style file; total count of ids. */
export function subordinateCount(file: string, user: { name: string; uid: number }): number {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return 0;
  }
  let total = 0;
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who !== user.name && who !== String(user.uid)) continue;
    if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "")) continue;
    total += Number(count);
  }
  return total;
}

export interface RootlessHost {
  user: string;
  home: string;
  /** How many machines may run at once: one slot of 65536 subordinate ids each. */
  slots: number;
}

/**
 * Checks what rootless podman needs; a missing piece is one SANDBOX_UNAVAILABLE line naming it.
 * `files`: where the subordinate ranges are (tests point these elsewhere).
 */
export function checkRootlessHost(
  podman: string | undefined,
  find: (name: string) => string | undefined,
  files = { subuid: "/etc/subuid", subgid: "/etc/subgid" },
): RootlessHost {
  const info = os.userInfo();
  const fail = (what: string): never => {
    throw new AirlockError(
      ErrorCode.SANDBOX_UNAVAILABLE,
      `the container provisioner runs rootless podman when not root, and ${what}`,
    );
  };
  if (!podman) fail("podman is not installed");
  for (const b of ["newuidmap", "newgidmap", "nsenter"]) {
    if (!find(b)) fail(`${b} is missing (install ${b === "nsenter" ? "util-linux" : "uidmap"})`);
  }
  const user = { name: info.username, uid: info.uid };
  const ids = Math.min(subordinateCount(files.subuid, user), subordinateCount(files.subgid, user));
  if (ids < ID_RANGE) {
    fail(
      `user ${info.username} has ${ids === 0 ? "no" : `only ${ids}`} subordinate uids/gids in ` +
        `${files.subuid} and ${files.subgid} (needs ${ID_RANGE} per machine: ` +
        `usermod --add-subuids FIRST-LAST --add-subgids FIRST-LAST ${info.username})`,
    );
  }
  // Ids 1..ids of podman's namespace are the subordinate ones; slot k starts at 1 + k*65536.
  return { user: info.username, home: info.homedir, slots: Math.floor(ids / ID_RANGE) };
}

/**
 * --uidmap/--gidmap of the machine in slot `slot`: container ids → ids of podman's namespace.
 * 0..1000 and 1002..65535 are subordinate ids of the slot; the job's user 1001 is the agent's uid.
 */
export function rootlessIdMap(slot: number): string[] {
  const base = 1 + slot * ID_RANGE;
  const out: string[] = [];
  for (const [flag, inner] of [
    ["--uidmap", INNER_UID],
    ["--gidmap", INNER_GID],
  ] as const) {
    out.push(
      flag,
      `0:${base}:${inner}`,
      flag,
      `${inner}:0:1`,
      flag,
      `${inner + 1}:${base + inner + 1}:${ID_RANGE - inner - 1}`,
    );
  }
  return out;
}

/** Airlock's storage.conf for rootless podman: overlay (native), images and layers under `dir`. */
export function writeStorageConf(file: string, dir: string, runDir: string, driver: string): void {
  const q = (s: string): string => JSON.stringify(s);
  const text = [
    "# Written by Airlock (container provisioner, rootless); rewritten at every start.",
    "[storage]",
    `driver = ${q(driver)}`,
    `runroot = ${q(path.join(runDir, "containers"))}`,
    `graphroot = ${q(dir)}`,
    `rootless_storage_path = ${q(dir)}`,
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o600 });
}

/**
 * podman's runtime folder (XDG_RUNTIME_DIR: its run root, pause process, locks) for one storage
 * folder: one fixed path per storage, because podman records it in the storage's database at the
 * first use and keeps using it. In the temporary folder (emptied at boot, as runtime state must
 * be), named by the user and the storage; one someone else made there is refused.
 */
export async function ensureRunDir(storage: string): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const tag = createHash("sha256").update(storage).digest("hex").slice(0, 12);
  const dir = path.join(os.tmpdir(), `airlock-podman-${uid}-${tag}`);
  await fsp.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  const st = await fsp.lstat(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new AirlockError(
      ErrorCode.CONFIG_INVALID,
      `${dir} is not a private folder of this user (mode 0700)`,
    );
  }
  return dir;
}

/** Default storage folder: in the user's own home, apart from the user's own podman storage. */
export function defaultStorageDir(home: string): string {
  return path.join(home, ".local", "share", "airlock", "containers");
}

/**
 * Removes a machine's folder inside podman's namespace, where the agent owns every subordinate
 * id: files a sibling wrote as its root (a subordinate uid) cannot be removed from outside.
 */
export async function removeTree(podman: Podman, dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const r = await podman.run(["unshare", "rm", "-rf", "--", dir]);
  if (r.code !== 0 && existsSync(dir)) {
    throw new AirlockError(
      ErrorCode.MACHINE_FAILED,
      `cannot remove ${dir}: ${r.stderr.trim().split("\n")[0]}`,
    );
  }
}
