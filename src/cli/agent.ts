// `airlock agent --server <url> [--credential-file <path>] [--registration-token-file <path>]`: runs a
// node agent until SIGINT/SIGTERM: the first signal stops it gracefully (no new jobs; running ones
// finish and their results are delivered; exit 0), a second one at once (running jobs cancelled).
// When connecting cannot succeed by retrying (credential refused, no agent endpoint at the
// address, another protocol version) it exits 1 with one line naming the cause. On its first start it exchanges a one-time registration token
// (from a file, or AIRLOCK_REGISTRATION_TOKEN) for the node's credential, kept in the credential
// file (0600) and replaced on every connection. No secret is ever taken from the command line,
// which every local user can read (ps): `--token` is refused with a line saying where it goes.
// The lead registers the command with `registerAgentCommand(program)` from main.ts.
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import {
  createAgent,
  DEFAULT_NODE_LIMITS,
  detectCapacity,
  diskSpace,
  type ConnectCause,
  fileCredentialStore,
  type AgentOptions,
} from "../agent/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../actions/index.js";
import { loadOptions } from "../config/index.js";
import { ImageStore } from "../images/index.js";
import { chooseLogFormat, formatLogger } from "./logging.js";
import { addEgressOptions, commandEgress, type EgressCommandOptions } from "./egress.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { registerSshHostCommands } from "./ssh-host.js";
import {
  createContainerProvisioner,
  createFakeProvisioner,
  createSandboxProvisioner,
  createSshProvisioner,
  createVmProvisioner,
  describeLimits,
  describeVm,
  type ContainerRegistry,
  type Provisioner,
} from "../provisioners/index.js";

export interface AgentCommandOptions extends EgressCommandOptions {
  server?: string;
  /** Refused when given: secrets do not go on the command line. */
  token?: string;
  credentialFile?: string;
  registrationTokenFile?: string;
  dataDir?: string;
  label: string[];
  /** Provisioner names to offer: "sandbox" (default) and/or "fake" (no isolation: tests, benchmarks). */
  provisioner: string[];
  cpus?: string;
  memoryMb?: string;
  diskMb?: string;
  pids?: string;
  nofile?: string;
  shmMb?: string;
  tmpMb?: string;
  cgroupParent?: string;
  diskPoolWarm?: string;
  warmSlots?: string;
  /** json, pretty or auto (default: AIRLOCK_LOG_FORMAT, else pretty on a terminal). */
  logFormat?: string;
  /** Container options this pool allows beyond the default allow-list (src/containers/options.ts). */
  containerAllowOption?: string[];
  /** The one registry workflow images may be pulled from (host[:port][/namespace]). */
  containerRegistry?: string;
  /** A folder with that registry's CA certificate (ca.crt), as podman --cert-dir. */
  containerRegistryCertDir?: string;
}

/** Node defaults for every machine (the flavour gives CPU, memory and disk). Documented in the README. */
export const AGENT_LIMIT_DEFAULTS = {
  pids: String(DEFAULT_NODE_LIMITS.pids),
  nofile: String(DEFAULT_NODE_LIMITS.nofile),
  shmMb: String(DEFAULT_NODE_LIMITS.shmMb),
  tmpMb: String(DEFAULT_NODE_LIMITS.tmpMb),
  cgroupParent: "airlock",
  diskPoolWarm: "2",
  warmSlots: "2",
} as const;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerAgentCommand(program: Command, setExitCode: (code: number) => void): void {
  const agent = addEgressOptions(program.command("agent"));
  // Not requiredOption: commander would then demand --server of the `ssh-host` subcommands too.
  agent
    .description(
      "run a node agent: dial out to the orchestrator and run assigned jobs on single-use machines",
    )
    .option("--server <url>", "the orchestrator's address, e.g. https://ci.example.com (required)")
    .option(
      "--credential-file <path>",
      "the node credential, replaced on every connection (mode 0600); default <data dir>/node-credential",
    )
    .option(
      "--registration-token-file <path>",
      "first start only: a file holding the one-time registration token (or $AIRLOCK_REGISTRATION_TOKEN); delete it afterwards",
    )
    // Declared only to refuse it with a useful line instead of "unknown option".
    .addOption(new Option("--token <token>").hideHelp())
    .option(
      "--data-dir <path>",
      "the agent's folder (outbox of undelivered output, credential); default $AIRLOCK_HOME/agent",
    )
    .option(
      "--label <label>",
      "label this node asks for (repeatable); only a request: the server ignores labels an administrator did not give (airlock nodes set-labels)",
      collect,
      [],
    )
    .option(
      "--provisioner <name>",
      "sandbox, container, vm, ssh (the hosts of `agent ssh-host`) or fake (repeatable; default: sandbox)",
      collect,
      [],
    )
    .option("--cpus <n>", "CPUs offered (default: all)")
    .option("--memory-mb <n>", "memory offered in MiB (default: all)")
    .option("--disk-mb <n>", "disk offered in MiB (default: free space of the data folder)")
    .option("--pids <n>", "processes and threads per machine", AGENT_LIMIT_DEFAULTS.pids)
    .option("--nofile <n>", "open files per process in a machine", AGENT_LIMIT_DEFAULTS.nofile)
    .option("--shm-mb <n>", "size of a machine's /dev/shm in MiB", AGENT_LIMIT_DEFAULTS.shmMb)
    .option("--tmp-mb <n>", "size of a machine's /tmp in MiB", AGENT_LIMIT_DEFAULTS.tmpMb)
    .option(
      "--cgroup-parent <path>",
      "cgroup under which machines get theirs, relative to each hierarchy's root",
      AGENT_LIMIT_DEFAULTS.cgroupParent,
    )
    .option(
      "--disk-pool-warm <n>",
      "pre-formatted machine filesystems kept ready per disk size (0: make each on demand)",
      AGENT_LIMIT_DEFAULTS.diskPoolWarm,
    )
    .option(
      "--warm-slots <n>",
      "machine slots (cgroups and waiting helper processes) kept ready, off the job start path (0: make each on demand)",
      AGENT_LIMIT_DEFAULTS.warmSlots,
    )
    .option(
      "--container-allow-option <option>",
      "a container option (long name, e.g. --cap-add) this pool allows in `container:`/`services:` options beyond the default allow-list (repeatable; --volume allows host paths in volumes)",
      collect,
      [],
    )
    .option(
      "--container-registry <host[:port][/namespace]>",
      "the one registry `container:`/`services:` images may be pulled from (default: none, the node's local podman storage only)",
    )
    .option(
      "--container-registry-cert-dir <dir>",
      "a folder holding the registry's CA certificate as ca.crt (default: the system's trust)",
    )
    .option(
      "--log-format <format>",
      "json, pretty or auto: pretty on a terminal, JSON lines otherwise (default: $AIRLOCK_LOG_FORMAT or auto)",
    )
    .action(async (opts: AgentCommandOptions) => {
      setExitCode(await agentCommand(opts));
    });
  registerSshHostCommands(agent, setExitCode);
}

/** Runs the agent until SIGINT/SIGTERM; returns the exit code. */
export async function agentCommand(
  o: AgentCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (o.token !== undefined)
    throw new AirlockError(
      ErrorCode.USAGE,
      "agent: --token is refused (a secret on the command line is visible to every local user in ps): put the registration token in a file for --registration-token-file, or in AIRLOCK_REGISTRATION_TOKEN",
    );
  if (env.AIRLOCK_AGENT_TOKEN !== undefined)
    throw new AirlockError(
      ErrorCode.USAGE,
      "agent: AIRLOCK_AGENT_TOKEN is no longer read: nodes register once with a registration token (AIRLOCK_REGISTRATION_TOKEN or --registration-token-file) and keep a rotating credential",
    );
  const options = loadOptions(env);
  if (o.server === undefined) throw new AirlockError(ErrorCode.USAGE, "agent: --server <url> is required");
  try {
    const u = new URL(o.server);
    if (!/^(https?|wss?):$/.test(u.protocol)) throw new Error("bad scheme");
  } catch {
    throw new AirlockError(
      ErrorCode.USAGE,
      `agent: --server must be an http(s):// address, got "${o.server}"`,
    );
  }
  for (const opt of o.containerAllowOption ?? [])
    if (!/^--[a-z][a-z-]*$/.test(opt))
      throw new AirlockError(
        ErrorCode.USAGE,
        `agent: --container-allow-option takes an option's long name such as --cap-add, got ${JSON.stringify(opt)}`,
      );
  const dataDir = resolve(o.dataDir ?? join(options.home, "agent"));
  const registrationToken = await readRegistrationToken(o, env);
  const egress = commandEgress(options, o);
  const format = chooseLogFormat({
    flag: o.logFormat,
    setting: options.logFormat,
    isTTY: process.stderr.isTTY === true,
  });
  const log = formatLogger({ name: "airlock-agent" }, format, 2);
  /** Set when connecting cannot succeed by retrying: the agent stops and the command fails with it. */
  let finalCause: ConnectCause | undefined;
  let onFinal = (): void => undefined;
  const agentOpts: AgentOptions = {
    serverUrl: o.server,
    credentials: fileCredentialStore(resolve(o.credentialFile ?? join(dataDir, "node-credential"))),
    ...(registrationToken !== undefined ? { registrationToken } : {}),
    dataDir,
    provisioners: provisioners(o, options.machinesDir, dataDir, log),
    actions: createActionLoader({ actionsUrl: options.actionsUrl, cacheDir: options.actionsCacheDir }),
    source: createGitWorkspaceSource(),
    labels: o.label,
    limits: {
      pids: positive("--pids", o.pids ?? AGENT_LIMIT_DEFAULTS.pids)!,
      nofile: positive("--nofile", o.nofile ?? AGENT_LIMIT_DEFAULTS.nofile)!,
      shmMb: positive("--shm-mb", o.shmMb ?? AGENT_LIMIT_DEFAULTS.shmMb)!,
      tmpMb: positive("--tmp-mb", o.tmpMb ?? AGENT_LIMIT_DEFAULTS.tmpMb)!,
    },
    // The node's image store: hello reports its images; each job's image is resolved there.
    images: new ImageStore(options.imagesDir),
    log,
    egress,
    ...(o.containerAllowOption?.length ? { containers: { allowOptions: o.containerAllowOption } } : {}),
    onFinal(cause) {
      finalCause = cause;
      onFinal();
    },
  };
  if (o.cpus !== undefined || o.memoryMb !== undefined || o.diskMb !== undefined) {
    const detected = await detectCapacity(agentOpts.dataDir);
    agentOpts.capacity = {
      cpus: positive("--cpus", o.cpus) ?? detected.cpus,
      memoryMb: positive("--memory-mb", o.memoryMb) ?? detected.memoryMb,
      diskMb: positive("--disk-mb", o.diskMb) ?? detected.diskMb,
    };
  }
  const agent = createAgent(agentOpts);
  try {
    await agent.start();
  } catch (err) {
    // No credential and no way to get one, or a refused registration token: leave nothing behind.
    await agent.stop();
    for (const p of Object.values(agentOpts.provisioners)) await p.close?.();
    throw err;
  }
  const disk = await diskSpace(agentOpts.dataDir).catch(() => undefined);
  log.info(
    {
      server: o.server,
      dataDir: agentOpts.dataDir,
      limits: describeLimits(),
      ...(agentOpts.provisioners.vm ? { vm: await describeVm() } : {}),
      ...(disk ? { diskFreeMb: disk.freeMb, diskTotalMb: disk.totalMb } : {}),
    },
    "agent started",
  );
  // First signal: graceful (no new jobs, running ones finish and are delivered); second: at once.
  const how = await new Promise<"signal" | "final">((done) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log.info(
          { signal, running: agent.runningJobs().length },
          "stopping gracefully: running jobs finish and their results are delivered, no new ones are taken (send the signal again to stop at once)",
        );
        void agent.drain().then(() => done("signal"));
        return;
      }
      log.info({ signal }, "stopping at once: running jobs are cancelled and their machines destroyed");
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      void agent.stop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    onFinal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      done("final");
    };
    if (finalCause) onFinal();
  });
  await agent.stop();
  for (const p of Object.values(agentOpts.provisioners)) await p.close?.();
  if (how === "final" && finalCause) throw finalError(finalCause);
  return 0;
}

/** The command's error for a cause retrying cannot help (exit 1, one line). */
function finalError(cause: ConnectCause): AirlockError {
  const code =
    cause.kind === "unauthorized"
      ? ErrorCode.UNAUTHORIZED
      : cause.kind === "protocol"
        ? ErrorCode.PROTOCOL_MISMATCH
        : ErrorCode.SERVER_UNREACHABLE;
  return new AirlockError(code, `agent: ${cause.message}`);
}

/**
 * The registration token, from its file or the environment, or undefined. Taken out of this
 * process's environment once read, so nothing it starts inherits it.
 */
async function readRegistrationToken(
  o: AgentCommandOptions,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const fromEnv = env.AIRLOCK_REGISTRATION_TOKEN;
  delete env.AIRLOCK_REGISTRATION_TOKEN;
  if (o.registrationTokenFile === undefined) return fromEnv?.trim() || undefined;
  try {
    const text = (await readFile(o.registrationTokenFile, "utf8")).trim();
    if (text !== "") return text;
  } catch (err) {
    throw new AirlockError(
      ErrorCode.USAGE,
      `agent: cannot read --registration-token-file ${o.registrationTokenFile}: ${(err as Error).message}`,
    );
  }
  throw new AirlockError(
    ErrorCode.USAGE,
    `agent: --registration-token-file ${o.registrationTokenFile} is empty`,
  );
}

function provisioners(
  o: AgentCommandOptions,
  machinesDir: string,
  dataDir: string,
  log: { warn(msg: string): void },
): Record<string, Provisioner> {
  const out: Record<string, Provisioner> = {};
  const parent = o.cgroupParent ?? AGENT_LIMIT_DEFAULTS.cgroupParent;
  if (parent === "" || parent.split("/").some((p) => p === ".." || p === ".")) {
    throw new AirlockError(
      ErrorCode.USAGE,
      `agent: --cgroup-parent must be a relative path, got "${parent}"`,
    );
  }
  const warm = nonNegative("--disk-pool-warm", o.diskPoolWarm ?? AGENT_LIMIT_DEFAULTS.diskPoolWarm);
  const warmSlots = nonNegative("--warm-slots", o.warmSlots ?? AGENT_LIMIT_DEFAULTS.warmSlots);
  const registry = containerRegistry(o);
  for (const name of o.provisioner.length > 0 ? o.provisioner : ["sandbox"]) {
    if (name === "sandbox") {
      out.sandbox = createSandboxProvisioner({
        baseDir: machinesDir,
        cgroupParent: parent.replace(/^\/+/, ""),
        diskPool: { warm },
        warmSlots,
        warn: (line) => log.warn(line),
      });
    } else if (name === "container") {
      out.container = createContainerProvisioner({
        baseDir: join(machinesDir, "containers"),
        ...(registry ? { registry } : {}),
        diskPool: { warm },
        warn: (line) => log.warn(line),
      });
    } else if (name === "fake") out.fake = createFakeProvisioner({ baseDir: join(machinesDir, "fake") });
    // The hosts of `airlock agent ssh-host add`, in <data dir>/ssh (one job per host unless --jobs).
    else if (name === "ssh") out.ssh = createSshProvisioner({ dataDir, warn: (line) => log.warn(line) });
    else if (name === "vm") out.vm = createVmProvisioner({ baseDir: join(machinesDir, "vm") });
    else
      throw new AirlockError(
        ErrorCode.USAGE,
        `agent: unknown provisioner "${name}" (sandbox, container, vm, ssh, fake)`,
      );
  }
  return out;
}

/** --container-registry and its CA folder, checked: a bare address, an existing folder. */
function containerRegistry(o: AgentCommandOptions): ContainerRegistry | undefined {
  const address = o.containerRegistry;
  if (address === undefined) {
    if (o.containerRegistryCertDir !== undefined)
      throw new AirlockError(
        ErrorCode.USAGE,
        "agent: --container-registry-cert-dir needs --container-registry",
      );
    return undefined;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(address))
    throw new AirlockError(
      ErrorCode.USAGE,
      `agent: --container-registry takes host[:port][/namespace] (no scheme), got ${JSON.stringify(address)}`,
    );
  const certDir = o.containerRegistryCertDir;
  if (certDir !== undefined && !existsSync(join(certDir, "ca.crt")))
    throw new AirlockError(
      ErrorCode.USAGE,
      `agent: --container-registry-cert-dir ${certDir} holds no ca.crt`,
    );
  return { address, ...(certDir !== undefined ? { certDir: resolve(certDir) } : {}) };
}

function nonNegative(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new AirlockError(ErrorCode.USAGE, `agent: ${flag} must be a whole number, got "${value}"`);
  return n;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new AirlockError(ErrorCode.USAGE, `agent: ${flag} must be a positive integer, got "${value}"`);
  return n;
}
