// `airlock server` (the orchestrator) and `airlock up` (the README's main job: orchestrator with
// the embedded database, one local node agent, the example repository registered and run, and
// the address where runs and logs can be followed).
import { existsSync } from "node:fs";
import { cp, rm } from "node:fs/promises";
import { runGit } from "../git/index.js";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { startService, type Service } from "../service/index.js";
import {
  createAgent,
  DEFAULT_NODE_LIMITS,
  fileCredentialStore,
  type Agent,
  type CredentialStore,
} from "../agent/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../actions/index.js";
import { loadOptions } from "../config/index.js";
import { chooseLogFormat, formatLogger } from "./logging.js";
import { registerAdminPassword } from "./admin-password.js";
import { nodeEgress } from "../egress/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../images/index.js";
import { createSandboxProvisioner, type Provisioner } from "../provisioners/index.js";
import {
  createRepository,
  inTransaction,
  listNodes,
  listRepositories,
} from "../orchestrator/catalog/index.js";
import { appendAudit } from "../audit/index.js";
import {
  authenticateNode,
  createRegistration,
  listRegistrations,
  resetNodeCredential,
  revokeRegistration,
} from "../orchestrator/node-auth/index.js";
import { makeLinks } from "../orchestrator/views/index.js";
import type { ServerConfig } from "../server/index.js";

export function registerServerCommands(program: Command, setExitCode: (code: number) => void): void {
  const server = program
    .command("server")
    .description("run the orchestrator: HTTP + WebSocket API, scheduler, PostgreSQL state")
    .option("-c, --config <file>", "configuration file (YAML or JSON); AIRLOCK_* environment variables win")
    .option("--port <port>", "listen port (AIRLOCK_PORT)")
    .option("--host <host>", "listen address (AIRLOCK_HOST)")
    .option(
      "--log-format <format>",
      "json, pretty or auto: pretty on a terminal, JSON lines otherwise (default: $AIRLOCK_LOG_FORMAT or auto)",
    )
    .action(async (opts: { config?: string; port?: string; host?: string; logFormat?: string }) => {
      const format = chooseLogFormat({
        flag: opts.logFormat,
        setting: loadOptions().logFormat,
        isTTY: process.stdout.isTTY === true,
      });
      const service = await startService({
        ...(opts.config ? { configFile: opts.config } : {}),
        overrides: overrides(opts),
        makeLogger: (level) => formatLogger({ level, base: { service: "airlock" } }, format, 1),
      });
      announce(service);
      await untilSignal();
      await service.stop();
      setExitCode(0);
    });
  registerAdminPassword(server);
  program
    .command("up")
    .description("start the orchestrator, one local node agent, register the example repository and run it")
    .option("--example <dir>", "repository folder to register and run", "examples/hello")
    .option("--port <port>", "listen port (AIRLOCK_PORT)")
    .option("--exit", "stop once the run has finished (exit code 0 only on success)")
    .action(async (opts: { example: string; port?: string; exit?: boolean }) => {
      setExitCode(await up(opts));
    });
}

function overrides(opts: { port?: string; host?: string }): Partial<ServerConfig> {
  return {
    ...(opts.port ? { listenPort: Number(opts.port) } : {}),
    ...(opts.host ? { listenHost: opts.host } : {}),
  };
}

function announce(service: Service): void {
  const out = process.stdout;
  out.write(
    `Airlock orchestrator listening on ${service.url} (public address ${service.config.publicUrl})\n`,
  );
  out.write(
    `Web UI: ${service.config.publicUrl}/ — sign in as admin (password below when new, else \`airlock server rotate-admin-password\`)\n`,
  );
  const admin = service.adminUser;
  if (admin?.password) {
    out.write(
      `\n${admin.outcome === "recreated" ? "The user admin was deleted and is made again" : "User admin created"}; its password (shown once, also in ${admin.passwordFile}, readable only by this user):\n  ${admin.password}\n`,
    );
  }
  if (service.adminToken) {
    out.write(
      `\nA token of admin for the CLI (scope admin, expires in 90 days; shown once, also saved in ${join(loadOptions().home, "cli.json")}):\n  ${service.adminToken}\n\n`,
    );
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolveSignal) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolveSignal();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}

async function up(opts: { example: string; port?: string; exit?: boolean }): Promise<number> {
  const service = await startService({ overrides: overrides(opts) });
  let agent: Agent | undefined;
  let provisioner: Provisioner | undefined;
  try {
    announce(service);
    const pool = service.db.pool;
    const agentDir = join(service.config.dataDir, "agent");
    const credentials = fileCredentialStore(join(agentDir, "node-credential"));
    const registrationToken = await localNode(service, credentials);
    const options = loadOptions();
    const images = new ImageStore(options.imagesDir);
    // Jobs run on the default image, never on this host's root filesystem: it must be built first.
    if (!images.resolve(DEFAULT_IMAGE)) {
      throw new AirlockError(
        ErrorCode.IMAGE_NOT_FOUND,
        `no image "${DEFAULT_IMAGE}" in ${images.dir}; build it first with: airlock image build ${DEFAULT_IMAGE}`,
      );
    }
    provisioner = createSandboxProvisioner({ baseDir: options.machinesDir, diskPool: { warm: 1 } });
    agent = createAgent({
      serverUrl: service.url,
      credentials,
      ...(registrationToken !== undefined ? { registrationToken } : {}),
      dataDir: agentDir,
      provisioners: { sandbox: provisioner },
      limits: DEFAULT_NODE_LIMITS,
      // The pool's list from AIRLOCK_EGRESS_*; repositories add theirs (airlock repos egress).
      egress: nodeEgress(options.egress, options.machinesDir),
      actions: createActionLoader({ actionsUrl: options.actionsUrl, cacheDir: options.actionsCacheDir }),
      source: createGitWorkspaceSource(),
      images,
      log: pino({ level: "warn" }),
    });
    await agent.start();

    // The example as a git repository of its own in the data folder (the clone URL is its path),
    // made once and registered once: every `up` runs it again under the same repository.
    const name = `examples/${basename(resolve(opts.example))}`;
    const repoDir = join(service.config.dataDir, name);
    if (!existsSync(join(repoDir, ".git"))) {
      await rm(repoDir, { recursive: true, force: true });
      await cp(resolve(opts.example), repoDir, { recursive: true });
      const git = (...args: string[]): Promise<unknown> => runGit(args, { cwd: repoDir });
      await git("init", "-q", "-b", "main");
      await git("add", "-A");
      await git(
        "-c",
        "user.name=Airlock",
        "-c",
        "user.email=up@airlock.invalid",
        "commit",
        "-qm",
        "Example repository",
      );
    }
    const links = makeLinks(service.config.publicUrl);
    const repo =
      (await listRepositories(pool, links)).find((r) => r.name === name) ??
      (await inTransaction(pool, (db) =>
        createRepository(db, { name, cloneUrl: repoDir }, links, service.kms),
      ));
    const runs = await service.orchestrator.runs.trigger(repo.id, {});
    process.stdout.write(`Registered ${name} (${repoDir}); triggered ${runs.length} run(s):\n`);
    for (const r of runs)
      process.stdout.write(`  run ${r.id}: ${service.config.publicUrl}/runs/${r.id}  (API: ${r.url})\n`);
    process.stdout.write(
      `Follow them in the web UI (the addresses above), or with:  airlock runs show <id>   airlock logs <job id> --follow\n\n`,
    );
    const conclusions = await Promise.all(runs.map((r) => waitForRun(service, r.id)));
    for (const [i, r] of runs.entries()) process.stdout.write(`run ${r.id}: ${conclusions[i]}\n`);
    const ok = conclusions.every((c) => c === "success");
    if (!opts.exit) {
      process.stdout.write(`\nAirlock keeps running at ${service.config.publicUrl} — Ctrl-C to stop.\n`);
      await untilSignal();
    }
    return ok ? 0 : 1;
  } finally {
    await agent?.stop();
    await provisioner?.close?.();
    await service.stop();
  }
}

/**
 * The local node of `up`, registered the way any node is: the first time, a registration token is
 * made here and handed to the in-process agent (never through argv or the environment), which
 * exchanges it over HTTP and keeps the credential in <data dir>/agent/node-credential (0600).
 * Later starts reuse that file; should it be missing or not work for the local node, this process —
 * which holds the database — gives the node a new credential. Returns the registration token when
 * the agent must register.
 */
async function localNode(service: Service, credentials: CredentialStore): Promise<string | undefined> {
  const pool = service.db.pool;
  const actor = { kind: "system", display: "airlock up" };
  const local = (await listNodes(pool)).find((n) => n.name === "local");
  if (!local) {
    // A registration left by an earlier `up` that stopped before its agent registered: replaced.
    for (const r of await listRegistrations(pool))
      if (r.name === "local" && r.state === "pending") await revokeRegistration(pool, r.id);
    const made = await createRegistration(pool, { name: "local", expiresInMinutes: 10 });
    await appendAudit(pool, {
      actor,
      action: "node.registration_created",
      object: { kind: "node_registration", id: made.registration.id },
      details: { name: "local", labels: [], requiredLabels: [], expiresAt: made.registration.expiresAt },
    });
    return made.token;
  }
  if (local.revokedAt !== null)
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `the node "local" was revoked; remove it (DELETE /api/v1/nodes/${local.id}) for \`airlock up\` to register a new one`,
    );
  const saved = await credentials.load();
  const works = saved !== undefined && (await authenticateNode(pool, saved))?.nodeId === local.id;
  if (!works) {
    await credentials.save(await resetNodeCredential(pool, local.id));
    await appendAudit(pool, {
      actor,
      action: "node.credential_reset",
      object: { kind: "node", id: local.id },
      details: { name: "local", reason: "airlock up found no working credential in its data folder" },
    });
  }
  return undefined;
}

/** Prints job conclusions as they come and resolves with the run's conclusion. */
async function waitForRun(service: Service, runId: number): Promise<string> {
  const printed = new Set<string>();
  for (;;) {
    const { rows } = await service.db.pool.query<{ state: string; conclusion: string | null }>(
      `SELECT state, conclusion FROM runs WHERE id = $1`,
      [runId],
    );
    const jobs = await service.db.pool.query<{
      id: string;
      name: string;
      state: string;
      conclusion: string | null;
    }>(`SELECT id, name, state, conclusion FROM jobs WHERE run_id = $1 ORDER BY id`, [runId]);
    for (const j of jobs.rows) {
      const line = `  job ${j.id} ${j.name}: ${j.conclusion ?? j.state}`;
      if ((j.state === "completed" || j.state === "lost") && !printed.has(line)) {
        printed.add(line);
        process.stdout.write(`${line}\n`);
      }
    }
    const r = rows[0];
    if (!r || r.state === "completed") return r?.conclusion ?? "unknown";
    await new Promise((res) => setTimeout(res, 200));
  }
}
