// Built-in users in PostgreSQL: creation (password policy, argon2id), lookup, password change and
// admin reset, disabling (which kills every session and token at once through
// credentials_valid_after), and the bootstrap `admin` user: created at first start with a random
// password shown once and written to a file only the service user can read; recreated the same
// way at the next start when it was deleted (the caller records that in the audit log).
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { checkNewPassword } from "./password-policy.js";
import { hashPassword } from "./password.js";

export type Db = pg.Pool | pg.PoolClient;

export const ADMIN_USER = "admin";
/** Serialises concurrent first starts so that exactly one admin user is made. */
const ADMIN_LOCK_KEY = "7361626657432011";
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface User {
  id: number;
  name: string;
  displayName: string;
  email: string | null;
  disabled: boolean;
  serverAdmin: boolean;
  hasPassword: boolean;
  mfa: boolean;
  createdAt: string;
}

export interface UserRow {
  id: string;
  name: string;
  display_name: string;
  email: string | null;
  disabled: boolean;
  server_admin: boolean;
  password_hash: string | null;
  totp_secret: string | null;
  created_at: Date;
}

export const USER_COLUMNS =
  "id, name, display_name, email, disabled, server_admin, password_hash, totp_secret, created_at";

export function toUser(r: UserRow): User {
  return {
    id: Number(r.id),
    name: r.name,
    displayName: r.display_name,
    email: r.email,
    disabled: r.disabled,
    serverAdmin: r.server_admin,
    hasPassword: r.password_hash !== null,
    mfa: r.totp_secret !== null,
    createdAt: r.created_at.toISOString(),
  };
}

export function checkUserName(name: string): string {
  if (!USER_NAME.test(name))
    throw new AirlockError(
      ErrorCode.USAGE,
      `user name ${JSON.stringify(name.slice(0, 80))} is invalid: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

function checkPassword(password: string, userName: string): void {
  const c = checkNewPassword(password, { userName });
  if (!c.ok) throw new AirlockError(ErrorCode.PASSWORD_INVALID, c.message);
}

export interface NewUser {
  name: string;
  /** Omitted: no password login (an external user, or one an admin sets a password for later). */
  password?: string;
  displayName?: string;
  email?: string;
  serverAdmin?: boolean;
  /** An imported hash (argon2id or bcrypt), instead of a password; upgraded at the next login. */
  passwordHash?: string;
}

export async function createUser(db: Db, u: NewUser): Promise<User> {
  checkUserName(u.name);
  if (u.password !== undefined && u.passwordHash !== undefined)
    throw new AirlockError(ErrorCode.USAGE, "give a password or an imported hash, not both");
  if (u.password !== undefined) checkPassword(u.password, u.name);
  if (u.passwordHash !== undefined && !/^(\$argon2id\$|\$2[aby]\$\d\d\$)/.test(u.passwordHash))
    throw new AirlockError(ErrorCode.USAGE, "an imported password hash must be argon2id or bcrypt");
  const hash = u.password !== undefined ? await hashPassword(u.password) : (u.passwordHash ?? null);
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO users (name, display_name, email, password_hash, server_admin)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`,
      [u.name, u.displayName ?? "", u.email ?? null, hash, u.serverAdmin === true],
    );
    return toUser(rows[0] as UserRow);
  } catch (e) {
    if ((e as { code?: string }).code === "23505")
      throw new AirlockError(ErrorCode.CONFLICT, `a user named ${u.name} exists already`);
    throw e;
  }
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function findUserByName(db: Db, name: string): Promise<User | undefined> {
  if (!USER_NAME.test(name)) return undefined;
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE lower(name) = lower($1)`,
    [name],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

/** The stored hash of a user, for verification only (it never leaves the auth module). */
export async function passwordHashOf(
  db: Db,
  name: string,
): Promise<{ id: number; hash: string | null; disabled: boolean } | undefined> {
  if (!USER_NAME.test(name)) return undefined;
  const { rows } = await db.query<{ id: string; password_hash: string | null; disabled: boolean }>(
    "SELECT id, password_hash, disabled FROM users WHERE lower(name) = lower($1)",
    [name],
  );
  const r = rows[0];
  return r ? { id: Number(r.id), hash: r.password_hash, disabled: r.disabled } : undefined;
}

/**
 * Sets a new password (the user's own change, or an admin's reset). Every session and token the
 * user had is dead afterwards (credentials_valid_after), as after any privilege change.
 */
export async function setPassword(db: Db, userId: number, password: string): Promise<void> {
  const u = await getUser(db, userId);
  if (!u) throw new AirlockError(ErrorCode.NOT_FOUND, `no user ${userId}`);
  checkPassword(password, u.name);
  const hash = await hashPassword(password);
  await db.query(
    "UPDATE users SET password_hash = $2, credentials_valid_after = now(), updated_at = now() WHERE id = $1",
    [userId, hash],
  );
}

/** Replaces a hash after a successful login that asked for a rehash (bcrypt import, old parameters). */
export async function upgradePasswordHash(
  db: Db,
  userId: number,
  oldHash: string,
  newHash: string,
): Promise<void> {
  await db.query(
    "UPDATE users SET password_hash = $3, updated_at = now() WHERE id = $1 AND password_hash = $2",
    [userId, oldHash, newHash],
  );
}

/** Disables or enables a user; disabling kills every session and token of the user at once. */
export async function setUserDisabled(db: Db, userId: number, disabled: boolean): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE users SET disabled = $2, updated_at = now(),
            credentials_valid_after = CASE WHEN $2 THEN now() ELSE credentials_valid_after END
      WHERE id = $1`,
    [userId, disabled],
  );
  if (!rowCount) throw new AirlockError(ErrorCode.NOT_FOUND, `no user ${userId}`);
}

export async function deleteUser(db: Db, userId: number): Promise<void> {
  const { rowCount } = await db.query("DELETE FROM users WHERE id = $1", [userId]);
  if (!rowCount) throw new AirlockError(ErrorCode.NOT_FOUND, `no user ${userId}`);
}

export interface AdminBootstrap {
  /** "created": first start; "recreated": `admin` had been made before and was deleted. */
  outcome: "exists" | "created" | "recreated";
  /** The new password (to show once) when created or recreated. */
  password?: string;
  /** Where the password was written (mode 0600). */
  passwordFile?: string;
}

/**
 * Makes sure a user `admin` (server administrator) exists. When it does not, makes it with a
 * random password (24 base64url characters, 144 bits), writes the password to `passwordFile`
 * (mode 0600, replaced atomically) and returns it to print once. Concurrent starts: one makes it.
 */
export async function ensureAdminUser(pool: pg.Pool, passwordFile: string): Promise<AdminBootstrap> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [ADMIN_LOCK_KEY]);
    if (await findUserByName(client, ADMIN_USER)) {
      await client.query("COMMIT");
      return { outcome: "exists" };
    }
    const before = await client.query("SELECT 1 FROM identity_state WHERE key = 'admin_created'");
    const password = randomBytes(18).toString("base64url");
    await createUser(client, {
      name: ADMIN_USER,
      password,
      serverAdmin: true,
      displayName: "Administrator",
    });
    await client.query(
      `INSERT INTO identity_state (key, value) VALUES ('admin_created', now()::text)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
    );
    // The file before the commit: a crash in between leaves no admin without its password.
    await writeSecretFile(passwordFile, `${password}\n`);
    await client.query("COMMIT");
    return { outcome: before.rowCount ? "recreated" : "created", password, passwordFile };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * Rotates the built-in `admin`'s password (a credential that leaked, or was handed over): a new
 * random one like the first start's, written to `passwordFile` (0600, atomically) before the
 * commit; the old password, every session and every API token of `admin` end at once
 * (credentials_valid_after). NOT_FOUND when there is no `admin` (the next server start makes it).
 */
export async function rotateAdminPassword(
  pool: pg.Pool,
  passwordFile: string,
  /** Runs in the same transaction before the commit (the audit entry: no rotation without it). */
  record?: (db: pg.PoolClient, userId: number) => Promise<unknown>,
): Promise<{ userId: number; password: string; passwordFile: string }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [ADMIN_LOCK_KEY]);
    const admin = await findUserByName(client, ADMIN_USER);
    if (!admin)
      throw new AirlockError(
        ErrorCode.NOT_FOUND,
        `there is no user ${ADMIN_USER}: the server's next start makes it, with a new password`,
      );
    const password = randomBytes(18).toString("base64url");
    await setPassword(client, admin.id, password);
    await record?.(client, admin.id);
    await writeSecretFile(passwordFile, `${password}\n`);
    await client.query("COMMIT");
    return { userId: admin.id, password, passwordFile };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Writes `content` to `file` readable only by this user (0600), atomically. */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: "wx" });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
