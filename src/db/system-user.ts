// PostgreSQL refuses to run as root. When Airlock runs as root, the embedded server runs as a
// dedicated unprivileged system user, created on first use; otherwise it runs as the current user.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AirlockError, ErrorCode } from "../errors/index.js";

const run = promisify(execFile);

/** The system user the embedded server runs as when Airlock itself runs as root. */
export const POSTGRES_SYSTEM_USER = "airlock-pg";

export interface RunAs {
  uid: number;
  gid: number;
  /** Set only when we switch user (we are root). */
  user?: string;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The identity the server runs as: the current user, or (as root) `airlock-pg`, created if missing. */
export async function postgresRunAs(): Promise<RunAs> {
  if (!isRoot()) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const existing = await lookup(POSTGRES_SYSTEM_USER);
  if (existing) return existing;
  try {
    await run("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      "--comment",
      "Airlock embedded PostgreSQL",
      POSTGRES_SYSTEM_USER,
    ]);
  } catch (cause) {
    // Another Airlock process may have created it at the same moment: look again before failing.
    const raced = await lookup(POSTGRES_SYSTEM_USER);
    if (raced) return raced;
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `cannot create the system user '${POSTGRES_SYSTEM_USER}' for the embedded PostgreSQL ` +
        "(PostgreSQL refuses to run as root); create it, or set DATABASE_URL",
      { cause },
    );
  }
  const created = await lookup(POSTGRES_SYSTEM_USER);
  if (!created)
    throw new AirlockError(ErrorCode.DB_FAILED, `user '${POSTGRES_SYSTEM_USER}' not found after useradd`);
  return created;
}

async function lookup(user: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", user]), run("id", ["-g", user])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10), user };
  } catch {
    return undefined;
  }
}
