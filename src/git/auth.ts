// Giving git a credential without putting it where other processes can read it. The password or
// key goes into a file of mode 0600 in a folder of mode 0700 made for this one git command and
// removed as soon as the command ends; git reads it through a credential helper (https) or
// ssh's `-i` (deploy keys). Only paths appear in git's environment and command line — never the
// secret. Why not a pipe or an environment variable: git asks for a credential from a grandchild
// (git-remote-https) and may ask more than once (a pipe is read once), and any process of the
// same user can read /proc/<pid>/environ; the file is readable only by that user too, who could
// read the server's memory anyway, and only while the command runs. See docs/security.md.
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
 * Runs `fn` with the environment additions that make git use `auth` (none without it), then
 * removes every file it wrote, whether fn succeeded or not.
 */
export async function withGitAuth<T>(
  auth: GitAuth | undefined,
  fn: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (!auth) return fn({});
  const dir = await mkdtemp(join(tmpdir(), `airlock-cred-${randomBytes(4).toString("hex")}-`));
  try {
    await chmod(dir, 0o700);
    return await fn(await prepare(dir, auth));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function prepare(dir: string, auth: GitAuth): Promise<Record<string, string>> {
  if (auth.kind === "basic") {
    checkBasicAuth(auth.username, auth.password);
    const answer = join(dir, "answer");
    await writeFile(answer, `username=${auth.username}\npassword=${auth.password}\n`, { mode: 0o600 });
    const helper = join(dir, "helper");
    // Answers `get` only: `store` and `erase` are ignored, so the credential is never kept.
    await writeFile(helper, `#!/bin/sh\n[ "$1" = get ] && exec cat ${shellQuote(answer)}\nexit 0\n`, {
      mode: 0o700,
    });
    // Through GIT_CONFIG_* (not `-c`, which would sit on git's command line beside the path).
    // The empty value first clears helpers from the service user's git config (a `store` helper
    // there would write the password to ~/.git-credentials).
    return {
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: "credential.helper",
      GIT_CONFIG_VALUE_1: helper,
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
