// The credentials a repository's job source needs, as values with a shape: a clone password
// (user name and password of an https clone URL), an SSH deploy key (with the known-hosts lines
// that vouch for the server), a forge API token. Set and removed write-only; listed by kind, when
// and by whom. sealLegacyCloneUrls takes passwords out of the clone URLs older installations
// stored and seals them (at start, as the webhook secrets).
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { checkBasicAuth, hasPassword, splitUserinfo, stripUrlsIn, type GitAuth } from "../git/index.js";
import { credentialOf, putCredential, type CredentialKind } from "./credentials.js";
import type { Kms } from "./kms/index.js";
import { inTransaction, type Db } from "./scope.js";

/** The kinds a user sets (the webhook secret is made by Airlock). */
export const SETTABLE_KINDS = ["clone-password", "deploy-key", "forge-token"] as const;
export type SettableKind = (typeof SETTABLE_KINDS)[number];

export type SourceCredential =
  | { kind: "clone-password"; username: string; password: string }
  | { kind: "deploy-key"; privateKey: string; knownHosts?: string }
  | { kind: "forge-token"; token: string };

export interface CredentialInfo {
  kind: CredentialKind;
  setAt: string;
  setBy: string | null;
}

const MAX_BYTES = 16 * 1024;

function invalid(message: string): AirlockError {
  return new AirlockError(ErrorCode.CREDENTIAL_INVALID, message);
}

/** Refuses a credential that cannot work, in one line that never holds the value. */
export function checkSourceCredential(c: SourceCredential): void {
  const size = Buffer.byteLength(JSON.stringify(c));
  if (size > MAX_BYTES) throw invalid(`the ${c.kind} is ${size} bytes; at most ${MAX_BYTES} are kept`);
  if (c.kind === "clone-password") {
    if (c.password === "" && c.username === "") throw invalid("the clone password is empty");
    checkBasicAuth(c.username, c.password);
  } else if (c.kind === "deploy-key") {
    if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(c.privateKey.trim()))
      throw invalid(
        "the deploy key is not a private key in PEM or OpenSSH form (-----BEGIN … PRIVATE KEY-----)",
      );
  } else if (c.token.trim() === "" || /\s/.test(c.token.trim())) {
    throw invalid("the forge token is empty or holds white space");
  }
}

/** Seals a repository's credential (replacing the one of that kind). */
export async function setSourceCredential(
  db: Db,
  kms: Kms,
  where: { organizationId: number; repositoryId: number },
  c: SourceCredential,
  by: string | null,
): Promise<void> {
  checkSourceCredential(c);
  const { kind, ...value } = c;
  await putCredential(db, kms, { ...where, kind }, JSON.stringify(value), by);
}

/** Removes a repository's credential of one kind; false when it had none. */
export async function deleteSourceCredential(
  db: Db,
  repositoryId: number,
  kind: SettableKind,
): Promise<boolean> {
  const r = await db.query("DELETE FROM repository_credentials WHERE repository_id = $1 AND kind = $2", [
    repositoryId,
    kind,
  ]);
  return (r.rowCount ?? 0) > 0;
}

/** Which credentials a repository has, when and by whom they were set — never a value. */
export async function listSourceCredentials(db: Db, repositoryId: number): Promise<CredentialInfo[]> {
  const { rows } = await db.query<{ kind: CredentialKind; created_at: Date; created_by: string | null }>(
    `SELECT kind, created_at, created_by FROM repository_credentials WHERE repository_id = $1 ORDER BY kind`,
    [repositoryId],
  );
  return rows.map((r) => ({ kind: r.kind, setAt: r.created_at.toISOString(), setBy: r.created_by }));
}

async function opened<T>(db: Db, kms: Kms, repositoryId: number, kind: SettableKind): Promise<T | undefined> {
  const text = await credentialOf(db, kms, repositoryId, kind);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** The forge token of a repository (for commit statuses and the like), undefined when none. */
export async function forgeTokenOf(db: Db, kms: Kms, repositoryId: number): Promise<string | undefined> {
  return (await opened<{ token: string }>(db, kms, repositoryId, "forge-token"))?.token;
}

/**
 * What git needs to fetch a repository: its deploy key for an ssh URL (ssh://, user@host:path),
 * its clone password for an http(s) one; undefined when it has none.
 */
export async function gitAuthOf(
  db: Db,
  kms: Kms,
  repositoryId: number,
  cloneUrl: string,
): Promise<GitAuth | undefined> {
  if (/^https?:\/\//i.test(cloneUrl)) {
    const c = await opened<{ username: string; password: string }>(db, kms, repositoryId, "clone-password");
    return c && { kind: "basic", username: c.username, password: c.password };
  }
  if (/^ssh:\/\//i.test(cloneUrl) || /^[^/:]+@[^/:]+:/.test(cloneUrl)) {
    const k = await opened<{ privateKey: string; knownHosts?: string }>(db, kms, repositoryId, "deploy-key");
    return (
      k && {
        kind: "ssh-key",
        privateKey: k.privateKey,
        ...(k.knownHosts ? { knownHosts: k.knownHosts } : {}),
      }
    );
  }
  return undefined;
}

/**
 * A clone URL as a repository row keeps it: without userinfo; the password (and user) it carried,
 * if any, to be sealed. A password in a URL other than http(s) is refused (ssh takes deploy keys).
 */
export function splitCloneUrl(url: string): { url: string; credential?: SourceCredential } {
  const s = splitUserinfo(url);
  if (!s.userinfo) {
    if (hasPassword(url))
      throw invalid("only an http(s) clone URL can carry a password; give an ssh repository a deploy key");
    return { url };
  }
  // `https://TOKEN@host/x` (a token as the user name, as GitHub allows) is sealed as it is: the
  // user name may be the secret.
  const { username, password } = s.userinfo;
  if (username === "" && password === "") return { url: s.url };
  return { url: s.url, credential: { kind: "clone-password", username, password } };
}

/**
 * Takes the passwords out of the clone URLs older installations stored with them, seals them and
 * stores the URL without; one repository per transaction. Returns how many. Idempotent.
 */
export async function sealLegacyCloneUrls(pool: pg.Pool, kms: Kms): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM repositories WHERE clone_url ~* '^[a-z][a-z0-9+.-]*://[^/@]*@' ORDER BY id`,
  );
  let moved = 0;
  for (const { id } of rows) {
    await inTransaction(pool, async (c) => {
      const r = await c.query<{ organization_id: string; clone_url: string }>(
        "SELECT organization_id, clone_url FROM repositories WHERE id = $1 FOR UPDATE",
        [id],
      );
      const row = r.rows[0];
      if (!row) return;
      // ssh://git@host keeps its user (not a secret); a password in a non-http URL is dropped
      // (ssh never used it: BatchMode), an http(s) one is sealed.
      const clean = stripUrlsIn(row.clone_url);
      if (clean === row.clone_url) return;
      const credential = splitUserinfo(row.clone_url).userinfo
        ? splitCloneUrl(row.clone_url).credential
        : undefined;
      const where = { organizationId: Number(row.organization_id), repositoryId: Number(id) };
      if (credential) await setSourceCredential(c, kms, where, credential, "airlock server start");
      await c.query("UPDATE repositories SET clone_url = $2 WHERE id = $1", [id, clean]);
      moved++;
    });
  }
  return moved;
}
