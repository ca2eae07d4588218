// `airlock agent ssh-host add|pin|list|remove`: the node's SSH hosts for `--provisioner ssh`, kept in
// `<agent data dir>/ssh` (src/provisioners/ssh/hosts.ts). Host keys are pinned here, by the
// operator, from a key line they got from the host itself (`--host-key`, `--host-key-file`) or
// from a scan they confirm after seeing its fingerprints (`--scan`, `--yes` to confirm without a
// terminal). A job never adds or trusts a key. `pin` re-pins a host whose key changed and makes it
// healthy again.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { loadOptions } from "../config/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import {
  DEFAULT_BASE_DIR,
  DEFAULT_NODE_PATH,
  fingerprints,
  HostStore,
  parseAddress,
  parseHostKeys,
  scanHostKeys,
  type SshHost,
} from "../provisioners/ssh/index.js";
import { table } from "./commands/table.js";
import { terminalPrompt } from "./commands/prompt.js";

interface KeyOptions {
  hostKey?: string;
  hostKeyFile?: string;
  scan?: boolean;
  yes?: boolean;
}

interface AddOptions extends KeyOptions {
  address: string;
  user: string;
  identity: string;
  baseDir?: string;
  nodePath?: string;
  jobs?: string;
  replace?: boolean;
}

type Out = (line: string) => void;

/** The host store of the agent's data folder (`--data-dir` of `airlock agent`, else $AIRLOCK_HOME/agent). */
export function hostStore(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): HostStore {
  return new HostStore(resolve(dataDir ?? join(loadOptions(env).home, "agent")));
}

export function registerSshHostCommands(agent: Command, setExitCode: (code: number) => void): void {
  const cmd = agent
    .command("ssh-host")
    .description("the SSH hosts of this node (--provisioner ssh): add them with their pinned host keys");
  // --data-dir is the agent's own option (commander gives it to the parent): read with optsWithGlobals.
  const storeOf = (c: Command): HostStore => hostStore(c.optsWithGlobals<{ dataDir?: string }>().dataDir);
  const keyOptions = (c: Command): Command =>
    c
      .option(
        "--host-key <line>",
        "the host's public key line (e.g. the host's /etc/ssh/ssh_host_ed25519_key.pub)",
      )
      .option("--host-key-file <path>", "a file with the host's public key line(s)")
      .option(
        "--scan",
        "ask the host for its keys now (ssh-keyscan) and pin them after you confirm their fingerprints",
      )
      .option("--yes", "with --scan: pin without asking (check the fingerprints printed against the host's)");
  keyOptions(
    cmd
      .command("add")
      .description("add an SSH host and pin its host key")
      .argument("<name>", "Airlock's name for the host")
      .requiredOption("--address <host[:port]>", "where to reach it")
      .requiredOption("--user <user>", "the user jobs run as (a dedicated one, see docs/isolation.md)")
      .requiredOption("--identity <keyfile>", "private key file on this node for that user")
      .option(
        "--base-dir <path>",
        `folder on the host for machines (relative: to the user's home; default ${DEFAULT_BASE_DIR})`,
      )
      .option("--node-path <path>", `the host's node for JavaScript actions (default ${DEFAULT_NODE_PATH})`)
      .option("--jobs <n>", "jobs at once on this host (default 1)")
      .option("--replace", "replace a host of that name"),
  ).action(async (name: string, o: AddOptions, c: Command) => {
    setExitCode(await addHost(storeOf(c), name, o, (l) => process.stdout.write(`${l}\n`)));
  });
  keyOptions(
    cmd
      .command("pin")
      .description("pin a host's key anew (after a host key change) and mark it healthy")
      .argument("<name>"),
  ).action(async (name: string, o: KeyOptions, c: Command) => {
    const store = storeOf(c);
    const host = store.get(name);
    if (!host) throw new AirlockError(ErrorCode.NOT_FOUND, `no ssh host ${name}`);
    const keys = await hostKeys(host, o, (l) => process.stdout.write(`${l}\n`));
    if (!keys) return setExitCode(1);
    store.pin(name, keys);
    process.stdout.write(`pinned ${keys.length} key(s) of ${name}; healthy\n`);
  });
  cmd
    .command("list")
    .description("the node's SSH hosts, their pinned keys and health")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }, c: Command) => {
      process.stdout.write(listHosts(storeOf(c), o.json === true));
    });
  cmd
    .command("remove")
    .description("remove an SSH host and its pinned keys")
    .argument("<name>")
    .action((name: string, _o: unknown, c: Command) => {
      if (!storeOf(c).remove(name)) throw new AirlockError(ErrorCode.NOT_FOUND, `no ssh host ${name}`);
      process.stdout.write(`removed ${name}\n`);
    });
}

export async function addHost(store: HostStore, name: string, o: AddOptions, out: Out): Promise<number> {
  const { address, port } = parseAddress(o.address);
  const jobs = o.jobs === undefined ? 1 : Number(o.jobs);
  const host: SshHost = {
    name,
    address,
    port,
    user: o.user,
    identity: resolve(o.identity),
    baseDir: o.baseDir ?? DEFAULT_BASE_DIR,
    nodePath: o.nodePath ?? DEFAULT_NODE_PATH,
    jobs,
  };
  if (!existsSync(host.identity))
    throw new AirlockError(ErrorCode.USAGE, `ssh-host: --identity ${host.identity}: no such file`);
  if (!o.replace && store.get(name))
    throw new AirlockError(ErrorCode.CONFLICT, `ssh host ${name} exists (remove it first, or --replace)`);
  const keys = await hostKeys(host, o, out);
  if (!keys) return 1;
  store.add(host, keys, o.replace === true);
  out(`added ${name} (${host.user}@${host.address}:${host.port}) with ${keys.length} pinned key(s)`);
  return 0;
}

/** The keys to pin, from exactly one source; undefined when the operator declined a scan. */
async function hostKeys(host: SshHost, o: KeyOptions, out: Out): Promise<[string, string][] | undefined> {
  const sources = [o.hostKey !== undefined, o.hostKeyFile !== undefined, o.scan === true].filter(
    Boolean,
  ).length;
  if (sources !== 1)
    throw new AirlockError(
      ErrorCode.USAGE,
      "ssh-host: give the host key with exactly one of --host-key, --host-key-file or --scan",
    );
  if (o.hostKey !== undefined || o.hostKeyFile !== undefined) {
    const keys = parseHostKeys(o.hostKey ?? readFileSync(o.hostKeyFile!, "utf8"));
    await checkedFingerprints(keys);
    return keys;
  }
  const keys = await scanHostKeys(host.address, host.port);
  out(`${host.address}:${host.port} offers these host keys:`);
  for (const f of await checkedFingerprints(keys)) out(`  ${f}`);
  if (o.yes) return keys;
  if (!process.stdin.isTTY)
    throw new AirlockError(
      ErrorCode.USAGE,
      "ssh-host: --scan needs your confirmation: run it on a terminal, or add --yes after checking the fingerprints",
    );
  const answer = await terminalPrompt(
    "Pin these keys? Compare them with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) [y/N] ",
    false,
  );
  if (/^y(es)?$/i.test(answer.trim())) return keys;
  out("nothing pinned");
  return undefined;
}

async function checkedFingerprints(keys: [string, string][]): Promise<string[]> {
  try {
    return await fingerprints(keys);
  } catch {
    throw new AirlockError(
      ErrorCode.USAGE,
      "ssh-host: not a valid public host key (ssh-keygen cannot read it)",
    );
  }
}

export function listHosts(store: HostStore, json: boolean): string {
  const rows = store
    .list()
    .map((h) => ({ ...h, ...store.health(h.name), keys: store.keyLines(h.name).length }));
  if (json) return JSON.stringify(rows, null, 2) + "\n";
  if (rows.length === 0)
    return "No ssh hosts; add one with: airlock agent ssh-host add <name> --address host --user u --identity key --scan\n";
  return table(
    ["NAME", "ADDRESS", "USER", "JOBS", "KEYS", "HEALTH"],
    rows.map((r) => [
      r.name,
      `${r.address}:${r.port}`,
      r.user,
      String(r.jobs),
      String(r.keys),
      r.healthy ? "healthy" : `UNHEALTHY since ${r.since ?? "?"}: ${r.reason ?? ""}`,
    ]),
  );
}
