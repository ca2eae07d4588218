// What a server administrator does to users beyond creating them: list, change name details and
// the server-administrator flag, and take a lost second factor away. The last enabled server
// administrator cannot be demoted, disabled or deleted (no one could administer the server).
import { AirlockError, ErrorCode } from "../errors/index.js";
import { getUser, toUser, USER_COLUMNS, type Db, type User, type UserRow } from "./users.js";

export async function listUsers(db: Db): Promise<User[]> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY id`);
  return rows.map(toUser);
}

export interface UserChanges {
  displayName?: string;
  email?: string | null;
  serverAdmin?: boolean;
}

/**
 * Refuses a change that would leave no enabled server administrator: `userId` loses the role
 * (demoted, disabled or deleted). Call inside the transaction that makes the change; the advisory
 * lock makes two administrators demoting each other at once see each other's change.
 */
export async function keepOneServerAdmin(db: Db, userId: number): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(7361626657432012)");
  const { rows } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM users WHERE server_admin AND NOT disabled AND id <> $1",
    [userId],
  );
  const u = await getUser(db, userId);
  if (u?.serverAdmin && !u.disabled && Number(rows[0]?.n ?? 0) === 0)
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `${u.name} is the last enabled server administrator: make another one first`,
    );
}

export async function updateUser(db: Db, userId: number, c: UserChanges): Promise<User> {
  if (c.serverAdmin === false) await keepOneServerAdmin(db, userId);
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET display_name = COALESCE($2, display_name),
            email = CASE WHEN $3::boolean THEN $4 ELSE email END,
            server_admin = COALESCE($5, server_admin),
            server_admin_mapped_by = CASE WHEN $5::boolean IS NULL THEN server_admin_mapped_by END,
            updated_at = now()
      WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [userId, c.displayName ?? null, c.email !== undefined, c.email ?? null, c.serverAdmin ?? null],
  );
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `user ${userId} not found`);
  return toUser(rows[0]);
}

/** Takes away a user's TOTP and recovery codes (a lost device); they may enrol again. */
export async function clearTotp(db: Db, userId: number): Promise<User> {
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL,
            recovery_code_hashes = '{}', updated_at = now()
      WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [userId],
  );
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `user ${userId} not found`);
  return toUser(rows[0]);
}
