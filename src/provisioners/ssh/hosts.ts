// The node's SSH hosts, kept in `<agent data dir>/ssh/` and written only by the operator's
// `airlock agent ssh-host` commands (and the provisioner's health marks):
//   hosts.json      the hosts (address, user, key file, ...), 0600
//   known_hosts     Airlock's OWN known-hosts file: the pinned keys, one line per key, under the
//                   host's name (ssh runs with HostKeyAlias=<name>); nothing else is ever trusted
//   unhealthy/<name>  present while a host is unhealthy (its key did not match): JSON reason/time
// ssh never writes to these files (UpdateHostKeys=no, StrictHostKeyChecking=yes).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { AirlockError, ErrorCode } from "../../errors/index.js";

const execFileP = promisify(execFile);

export interface SshHost {
  /** Airlock's name for the host (also the HostKeyAlias of its pinned keys). */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key file on this node (absolute). */
  identity: string;
  /** Folder on the host under which machines get theirs (relative: to the user's home). */
  baseDir: string;
  /** The host's node binary for JavaScript actions (Machine.nodePath). */
  nodePath: string;
  /** Jobs at once on this host (default 1). */
  jobs: number;
}

export interface HostHealth {
  healthy: boolean;
  reason?: string;
  since?: string;
}

export const DEFAULT_BASE_DIR = ".airlock/machines";
export const DEFAULT_NODE_PATH = "/usr/bin/node";

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const ADDRESS = /^[a-z0-9][a-z0-9.:-]*$/i;
const USER = /^[a-z_][a-z0-9._-]{0,31}$/i;
const KEY_TYPE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

const usage = (msg: string): AirlockError => new AirlockError(ErrorCode.USAGE, msg);

/** Checks a host's settings; every problem in one line. */
export function checkHost(h: SshHost): void {
  const bad: string[] = [];
  if (!NAME.test(h.name)) bad.push(`name "${h.name}" (letters, digits, . _ -)`);
  if (!ADDRESS.test(h.address)) bad.push(`address "${h.address}"`);
  if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) bad.push(`port ${h.port}`);
  if (!USER.test(h.user)) bad.push(`user "${h.user}"`);
  if (!path.isAbsolute(h.identity)) bad.push(`identity "${h.identity}" (an absolute path)`);
  if (h.baseDir === "" || h.baseDir.split("/").includes("..") || /[\0\n]/.test(h.baseDir))
    bad.push(`base dir "${h.baseDir}"`);
  if (!path.isAbsolute(h.nodePath)) bad.push(`node path "${h.nodePath}" (an absolute path)`);
  if (!Number.isInteger(h.jobs) || h.jobs < 1) bad.push(`jobs ${h.jobs}`);
  if (bad.length > 0) throw usage(`ssh host: bad ${bad.join(", ")}`);
}

/** `host[:port]` or `[v6]:port`. */
export function parseAddress(text: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw usage(`ssh host: bad address "${text}" (host[:port])`);
  return { address: m[1]!, port: m[2] === undefined ? 22 : Number(m[2]) };
}

/** A public key line ("type base64 [comment]", or a known_hosts line): [type, base64] pairs. */
export function parseHostKeys(text: string): [string, string][] {
  const keys: [string, string][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = line.split(/\s+/);
    const at = words.findIndex((w) => KEY_TYPE.test(w));
    const b64 = at < 0 ? undefined : words[at + 1];
    if (b64 === undefined || !/^[A-Za-z0-9+/]+=*$/.test(b64))
      throw usage(`ssh host: not a public host key: "${line.slice(0, 60)}"`);
    keys.push([words[at]!, b64]);
  }
  if (keys.length === 0) throw usage("ssh host: no host key given");
  return keys;
}

export class HostStore {
  readonly dir: string;
  readonly knownHosts: string;

  constructor(dataDir: string) {
    this.dir = path.join(path.resolve(dataDir), "ssh");
    this.knownHosts = path.join(this.dir, "known_hosts");
  }

  list(): SshHost[] {
    const file = path.join(this.dir, "hosts.json");
    if (!existsSync(file)) return [];
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as { hosts: SshHost[] }).hosts;
    } catch (e) {
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `${file}: ${(e as Error).message}`);
    }
  }

  get(name: string): SshHost | undefined {
    return this.list().find((h) => h.name === name);
  }

  /** Adds (or, with replace, replaces) a host and pins its keys; the host is healthy afterwards. */
  add(host: SshHost, keys: [string, string][], replace = false): void {
    checkHost(host);
    const hosts = this.list();
    if (!replace && hosts.some((h) => h.name === host.name))
      throw new AirlockError(
        ErrorCode.CONFLICT,
        `ssh host ${host.name} exists (remove it first, or --replace)`,
      );
    this.write(
      "hosts.json",
      JSON.stringify({ hosts: [...hosts.filter((h) => h.name !== host.name), host] }, null, 2),
    );
    this.pin(host.name, keys);
  }

  /** Replaces the pinned keys of a host and marks it healthy (the operator's re-pin). */
  pin(name: string, keys: [string, string][]): void {
    if (!this.get(name)) throw new AirlockError(ErrorCode.NOT_FOUND, `no ssh host ${name}`);
    this.write(
      "known_hosts",
      [...this.keyLines(name, false), ...keys.map(([t, k]) => `${name} ${t} ${k}`)].join("\n") + "\n",
    );
    rmSync(path.join(this.dir, "unhealthy", name), { force: true });
  }

  remove(name: string): boolean {
    const hosts = this.list();
    if (!hosts.some((h) => h.name === name)) return false;
    this.write("hosts.json", JSON.stringify({ hosts: hosts.filter((h) => h.name !== name) }, null, 2));
    this.write("known_hosts", this.keyLines(name, false).join("\n") + "\n");
    rmSync(path.join(this.dir, "unhealthy", name), { force: true });
    return true;
  }

  /** The pinned key lines of `name` (mine=true) or of every other host (mine=false). */
  keyLines(name: string, mine = true): string[] {
    if (!existsSync(this.knownHosts)) return [];
    return readFileSync(this.knownHosts, "utf8")
      .split("\n")
      .filter((l) => l !== "" && (l.split(" ")[0] === name) === mine);
  }

  markUnhealthy(name: string, reason: string): void {
    mkdirSync(path.join(this.dir, "unhealthy"), { recursive: true, mode: 0o700 });
    this.write(path.join("unhealthy", name), JSON.stringify({ reason, since: new Date().toISOString() }));
  }

  health(name: string): HostHealth {
    const file = path.join(this.dir, "unhealthy", name);
    if (!existsSync(file)) return { healthy: true };
    try {
      const j = JSON.parse(readFileSync(file, "utf8")) as { reason: string; since: string };
      return { healthy: false, reason: j.reason, since: j.since };
    } catch {
      return { healthy: false, reason: "unreadable health mark" };
    }
  }

  private write(rel: string, text: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, rel);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
  }
}

/** The host's keys as it offers them now (ssh-keyscan): only for the operator's `--scan`, confirmed. */
export async function scanHostKeys(address: string, port: number): Promise<[string, string][]> {
  try {
    const { stdout } = await execFileP("ssh-keyscan", ["-T", "10", "-p", String(port), "--", address], {
      maxBuffer: 1 << 20,
    });
    return parseHostKeys(stdout);
  } catch (e) {
    throw new AirlockError(
      ErrorCode.SERVER_UNREACHABLE,
      `ssh-keyscan ${address}:${port}: no host key (${(e as Error).message.split("\n")[0]})`,
    );
  }
}

/** SHA256 fingerprints of keys, as `ssh-keygen -l` prints them. */
export async function fingerprints(keys: [string, string][]): Promise<string[]> {
  const out: string[] = [];
  for (const [t, k] of keys) {
    const child = execFileP("ssh-keygen", ["-l", "-f", "-"]);
    child.child.stdin?.end(`${t} ${k}\n`);
    const { stdout } = await child;
    out.push(stdout.trim());
  }
  return out;
}
