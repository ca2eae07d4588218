// Giving git a credential without putting it where other processes can read it. The password or
// key goes into a file of mode 0600 in a folder of mode 0700 made for this one git command and
// removed as soon as the command ends; git reads it through a credential helper (https) or
// ssh's `-i` (deploy keys). Only paths appear in git's environment and command line — never the
// secret. Why not a pipe or an environment variable: git asks for a credential from a grandchild
// (git-remote-https) and may ask more than once (a pipe is read once), and any process of the
// same user can read /proc/<pid>/environ; the file is readable only by that user too, who could
// read the server's memory anyway, and only while the command runs. See docs/security.md.
// The password is for the clone URL's host only: the helper is configured for that scheme and
// host (port included) and checks the `protocol=`/`host=` git asks about too, and redirects are
// not followed, so a remote that redirects elsewhere never makes git hand the password on.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

export type GitAuth =
  | { kind: "basic"; username: string; password: string }
  | {
      kind: "ssh-key";
      privateKey: string;
      /** known_hosts lines for the server; absent: the service user's own known_hosts decides. */
      knownHosts?: string;
    };

const NEWLINE = /[\r\n\0]/;

/** Refuses credential fields git's credential protocol cannot carry (one line, never the value). */
export function checkBasicAuth(username: string, password: string): void {
  if (NEWLINE.test(username) || NEWLINE.test(password))
    throw new AirlockError(
      ErrorCode.CREDENTIAL_INVALID,
      "a clone user name or password cannot hold a line break or NUL",
    );
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The scheme and the hosts (as git's credential protocol names them: with the port unless it is
 * the default, which may be written too) a password may go to; undefined when `remote` is not an
 * http(s) URL (a password is never asked for there).
 */
function passwordTarget(remote: string): { scheme: string; hosts: string[] } | undefined {
  let u: URL;
  try {
    u = new URL(remote);
  } catch {
    return undefined;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
  const scheme = u.protocol.slice(0, -1);
  const hosts = u.port === "" ? [u.host, `${u.host}:${scheme === "https" ? 443 : 80}`] : [u.host];
  return { scheme, hosts };
}

/**
 * Runs `fn` with the environment additions that make git use `auth` (none without it) for the
 * remote `remote` only, then removes every file it wrote, whether fn succeeded or not.
 */
export async function withGitAuth<T>(
  auth: GitAuth | undefined,
  remote: string,
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (!auth) return fn({});
  const target = auth.kind === "basic" ? passwordTarget(remote) : undefined;
  // A password for a remote git never asks one for (ssh, a path): nothing to hand over.
  if (auth.kind === "basic" && !target) return fn({});
  const dir = await mkdtemp(join(tmpdir(), `airlock-cred-${randomBytes(4).toString("hex")}-`));
  try {
    await chmod(dir, 0o700);
    return await fn(await prepare(dir, auth, target));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function prepare(
  dir: string,
  auth: GitAuth,
  target: { scheme: string; hosts: string[] } | undefined,
): Promise<Record<string, string>> {
  if (auth.kind === "basic") {
    if (!target) return {};
    checkBasicAuth(auth.username, auth.password);
    const answer = join(dir, "answer");
    await writeFile(answer, `username=${auth.username}\npassword=${auth.password}\n`, { mode: 0o600 });
    const helper = join(dir, "helper");
    await writeFile(helper, helperScript(answer, target), { mode: 0o700 });
    // Through GIT_CONFIG_* (not `-c`, which would sit on git's command line beside the path).
    // The empty value first clears helpers from the service user's git config (a `store` helper
    // there would write the password to ~/.git-credentials); ours is scoped to the clone URL's
    // scheme and host, and redirects are refused (git would ask again for the new host).
    const hostUrl = `${target.scheme}://${target.hosts[0] ?? ""}`;
    return {
      GIT_CONFIG_COUNT: "3",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: `credential.${hostUrl}.helper`,
      GIT_CONFIG_VALUE_1: helper,
      GIT_CONFIG_KEY_2: "http.followRedirects",
      GIT_CONFIG_VALUE_2: "false",
    };
  }
  const key = join(dir, "key");
  const text = auth.privateKey.endsWith("\n") ? auth.privateKey : `${auth.privateKey}\n`;
  await writeFile(key, text, { mode: 0o600 });
  const ssh = ["ssh", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", shellQuote(key)];
  if (auth.knownHosts !== undefined && auth.knownHosts.trim() !== "") {
    const hosts = join(dir, "known_hosts");
    await writeFile(hosts, auth.knownHosts.endsWith("\n") ? auth.knownHosts : `${auth.knownHosts}\n`, {
      mode: 0o600,
    });
    // Host keys are always checked: given lines replace the user's file, never a blind accept.
    ssh.push("-o", `UserKnownHostsFile=${shellQuote(hosts)}`, "-o", "StrictHostKeyChecking=yes");
  }
  return { GIT_SSH_COMMAND: ssh.join(" ") };
}

/**
 * Answers `get` only (`store` and `erase` are ignored, so the credential is never kept), and only
 * when git asks for the expected scheme and host (compared case-insensitively): nothing otherwise.
 */
function helperScript(answer: string, target: { scheme: string; hosts: string[] }): string {
  const hostTests = target.hosts.map((h) => `[ "$h" = ${shellQuote(h.toLowerCase())} ]`).join(" || ");
  return [
    "#!/bin/sh",
    '[ "$1" = get ] || exit 0',
    "p= h=",
    "while IFS= read -r line; do",
    '  case "$line" in',
    '    protocol=*) p="${line#protocol=}" ;;',
    '    host=*) h=$(printf %s "${line#host=}" | tr A-Z a-z) ;;',
    '    "") break ;;',
    "  esac",
    "done",
    `[ "$p" = ${shellQuote(target.scheme)} ] && { ${hostTests}; } && exec cat ${shellQuote(answer)}`,
    "exit 0",
    "",
  ].join("\n");
}
