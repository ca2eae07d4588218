// Users who log in through a provider: found by (provider, immutable subject) in user_identities,
// never by a name or an e-mail address, so a renamed account stays the same user and a new
// account that took an old name does not. The first login makes a user with no password, no role
// and a unique name derived from the provider's login name (a numeric suffix on collision), in one
// transaction with its identity and its `user.created` audit entry. Later logins refresh the
// display name and e-mail address; the Airlock name stays.
import { randomInt } from "node:crypto";
import type pg from "pg";
import { appendAudit } from "../audit/index.js";
import { createUser, getUser, type User } from "./users.js";
import type { ExternalIdentity } from "./sso-types.js";

/** Names an external user never gets as they are (they suggest authority, or are the bootstrap user's). */
const RESERVED = new Set(["admin", "administrator", "root", "system", "airlock"]);

/** A user name shape (see users.name's CHECK) from what a provider calls the user. */
export function baseUserName(hint: string | undefined): string {
  const ascii = (hint ?? "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 54)
    .replace(/[._-]+$/, "");
  return ascii.length > 0 ? ascii : "user";
}

/** The provider's login name as stored beside the identity (bounded; null when none). */
function loginOf(identity: ExternalIdentity): string | null {
  const login = identity.username?.trim();
  return login && login.length <= 255 ? login : null;
}

export interface ExternalUser {
  user: User;
  created: boolean;
}

/**
 * The user of an identity, made at its first login. Concurrent first logins of one identity make
 * one user (the identity's primary key decides; the loser finds the winner's user).
 */
export async function findOrCreateExternalUser(
  pool: pg.Pool,
  identity: ExternalIdentity,
  o: { clientAddress?: string } = {},
): Promise<ExternalUser> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await findExternalUser(pool, identity);
    if (found) return { user: found, created: false };
    const made = await createExternalUser(pool, identity, o.clientAddress);
    if (made) return { user: made, created: true };
  }
  throw new Error(`could not find or make the user of ${identity.provider} ${identity.subject}`);
}

async function findExternalUser(pool: pg.Pool, identity: ExternalIdentity): Promise<User | undefined> {
  const { rows } = await pool.query<{ user_id: string }>(
    "SELECT user_id FROM user_identities WHERE provider = $1 AND subject = $2",
    [identity.provider, identity.subject],
  );
  const id = rows[0]?.user_id;
  if (id === undefined) return undefined;
  // The login the provider gives now (a forge login may have changed): webhooks name it as the
  // actor, and a deployment's reviewer must not be the one who pushed (src/environments/review.ts).
  await pool.query(
    `UPDATE user_identities SET login = $3
      WHERE provider = $1 AND subject = $2 AND login IS DISTINCT FROM $3`,
    [identity.provider, identity.subject, loginOf(identity)],
  );
  await pool.query(
    `UPDATE users SET display_name = COALESCE($2, display_name), email = COALESCE($3, email), updated_at = now()
      WHERE id = $1 AND (display_name IS DISTINCT FROM COALESCE($2, display_name)
                         OR email IS DISTINCT FROM COALESCE($3, email))`,
    [id, identity.displayName?.slice(0, 200) ?? null, identity.email?.slice(0, 320) ?? null],
  );
  return getUser(pool, Number(id));
}

/** Undefined when another login made the identity meanwhile. */
async function createExternalUser(
  pool: pg.Pool,
  identity: ExternalIdentity,
  clientAddress: string | undefined,
): Promise<User | undefined> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const user = await insertWithFreeName(c, identity);
    const linked = await c.query(
      `INSERT INTO user_identities (provider, subject, user_id, login) VALUES ($1, $2, $3, $4)
       ON CONFLICT (provider, subject) DO NOTHING`,
      [identity.provider, identity.subject, user.id, loginOf(identity)],
    );
    if (!linked.rowCount) {
      await c.query("ROLLBACK");
      return undefined;
    }
    await appendAudit(c, {
      actor: { kind: "user", id: user.id, display: user.name },
      action: "user.created",
      object: { kind: "user", id: user.id },
      clientAddress: clientAddress ?? null,
      details: { method: identity.provider, subject: identity.subject, name: user.name },
    });
    await c.query("COMMIT");
    return user;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** `base`, `base-2`, `base-3`, ...; the reserved names are skipped; a random suffix at last. */
async function insertWithFreeName(c: pg.PoolClient, identity: ExternalIdentity): Promise<User> {
  const base = baseUserName(identity.username);
  for (let i = 1; i <= 30; i++) {
    const name = i === 1 ? base : `${base}-${i === 30 ? randomInt(1e6, 1e9) : i}`;
    if (RESERVED.has(name.toLowerCase())) continue;
    await c.query("SAVEPOINT airlock_user_name");
    try {
      const user = await createUser(c, {
        name,
        ...(identity.displayName !== undefined ? { displayName: identity.displayName.slice(0, 200) } : {}),
        ...(identity.email !== undefined ? { email: identity.email.slice(0, 320) } : {}),
      });
      await c.query("RELEASE SAVEPOINT airlock_user_name");
      return user;
    } catch (e) {
      await c.query("ROLLBACK TO SAVEPOINT airlock_user_name");
      if ((e as { code?: string }).code !== "CONFLICT") throw e;
    }
  }
  throw new Error(`no free user name from ${base}`);
}
