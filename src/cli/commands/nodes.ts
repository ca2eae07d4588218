// `airlock nodes list|register-token|registrations|revoke-token|revoke|disable|enable`: the
// machines' hosts. A node joins with a one-time registration token (`register-token` prints it
// once, with the agent command that reads it from a file: never from argv); `revoke` cuts a node
// off for good; disable drains a node (running machines finish, no new ones start).
import type { Command } from "commander";
import type { ListedNode, NodeRegistration } from "../api/index.js";
import {
  apiOptions,
  collect,
  connect,
  failOnProblems,
  findByRef,
  idArgument,
  listCommand,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { list, table, time } from "./table.js";
import { clearNodeFlag, setNodeLabels, setNodePool, setNodeWorker } from "../api/pools.js";

interface RegisterOptions extends CommonOptions {
  label: string[];
  requiredLabel: string[];
  pool?: string;
  expires?: string;
  operator?: string;
  untrusted?: boolean;
}

interface WorkerOptions extends CommonOptions {
  operator?: string;
}

const worker = (n: { workerTrust: string; operator: string | null }): string =>
  n.operator === null ? n.workerTrust : `${n.workerTrust} (${n.operator})`;

// A node reports its capacity when its agent first connects; until then the server holds zeros.
const capacity = (n: ListedNode): string =>
  !n.cpus ? "-" : `${n.cpus} cpu, ${n.memoryMb ?? "?"} MiB, ${n.diskMb ?? "?"} MiB disk`;

// "stopping": its agent stops gracefully (finishes its jobs, takes no new ones), unlike disabled.
const nodeStatus = (n: ListedNode): string =>
  n.revokedAt
    ? "revoked"
    : `${n.enabled ? "enabled" : "disabled"}, ${n.connected ? "connected" : "offline"}${n.draining ? ", stopping" : ""}`;

export function nodesTable(nodes: ListedNode[]): string {
  return table(
    ["ID", "NAME", "POOL", "WORKER", "STATUS", "RUNNING", "LABELS", "REQUIRED", "CAPACITY", "LAST SEEN"],
    nodes.map((n) => [
      n.id,
      n.name,
      n.taintedAt ? `${n.pool} (tainted)` : n.pool,
      n.flaggedAt ? `${worker(n)}, FLAGGED` : worker(n),
      nodeStatus(n),
      n.running,
      list(n.labels),
      list(n.requiredLabels),
      capacity(n),
      time(n.lastSeenAt),
    ]),
  );
}

export function registrationsTable(regs: NodeRegistration[]): string {
  return table(
    ["ID", "NAME", "STATE", "LABELS", "REQUIRED", "EXPIRES", "USED", "NODE"],
    regs.map((r) => [
      r.id,
      r.name,
      r.state,
      list(r.labels),
      list(r.requiredLabels),
      time(r.expiresAt),
      time(r.usedAt),
      r.nodeId,
    ]),
  );
}

const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 24 * 60 };

/** `30m`, `1h`, `7d` as minutes; problems are collected. */
export function expiresOption(value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,6})([mhd])$/.exec(value.trim());
  const minutes = m ? Number(m[1]) * UNIT_MINUTES[m[2]!]! : NaN;
  if (!(minutes >= 1 && minutes <= 7 * 24 * 60)) {
    problems.push(`--expires expects a duration from 1m to 7d such as 30m, 1h or 2d, got '${value}'`);
    return undefined;
  }
  return minutes;
}

export function registerNodes(program: Command, io: CliIo): void {
  const nodes = program.command("nodes").description("nodes that run machines (each runs `airlock agent`)");

  listCommand(nodes, io, { what: "nodes", fetch: (c) => c.listNodes(), render: nodesTable });

  apiOptions(
    nodes
      .command("register-token")
      .alias("add")
      .description("make a one-time token a node's agent registers with; printed once")
      .argument("<name>", "the node's name")
      .option("--label <label>", "label jobs can ask for (repeatable)", collect, [])
      .option("--required-label <label>", "only jobs with this label run here (repeatable)", collect, [])
      .option("--pool <pool>", "the pool the node joins (default: default)")
      .option("--operator <name>", "who runs the node (default: this installation's operator)")
      .option("--untrusted", "a third party's node: its artifacts count only when corroborated")
      .option("--expires <duration>", "how long the token can be used: 30m, 1h (default), up to 7d"),
  ).action(async (name: string, opts: RegisterOptions) => {
    const problems: string[] = [];
    const expiresInMinutes = expiresOption(opts.expires, problems);
    failOnProblems(problems);
    const client = await connect(opts, io);
    const reg = await client.createNodeRegistration({
      name,
      labels: opts.label,
      requiredLabels: opts.requiredLabel,
      ...(opts.pool ? { pool: opts.pool } : {}),
      ...(opts.operator !== undefined ? { operator: opts.operator } : {}),
      ...(opts.untrusted ? { workerTrust: "untrusted" as const } : {}),
      ...(expiresInMinutes !== undefined ? { expiresInMinutes } : {}),
    });
    if (opts.json) {
      printJson(io, reg);
      return;
    }
    io.stdout.write(
      `Registration token for node ${reg.name} (registration ${reg.id}), usable once until ${time(reg.expiresAt)} UTC.\n` +
        `Shown only this once:\n  ${reg.token}\n\n` +
        `On the node, save it in a file only the agent's user can read (mode 0600), e.g. ./registration-token,\n` +
        `then start the agent (a token never goes on the command line):\n` +
        `  airlock agent --server ${client.server} --registration-token-file ./registration-token\n` +
        `The agent exchanges it for the node's own credential (kept in <data dir>/node-credential, rotated on\n` +
        `every connection); the token file can be deleted then.\n`,
    );
  });

  apiOptions(
    nodes.command("registrations").description("list registration tokens and their state (never the tokens)"),
  ).action(async (opts: CommonOptions) => {
    const regs = await (await connect(opts, io)).listNodeRegistrations();
    if (opts.json) printJson(io, regs);
    else io.stdout.write(regs.length === 0 ? "No registrations.\n" : registrationsTable(regs));
  });

  apiOptions(
    nodes
      .command("revoke-token")
      .description("revoke a registration token that was not used yet")
      .argument("<registration>", "the registration's id"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const id = idArgument(ref, "registration");
    await (await connect(opts, io)).revokeNodeRegistration(id);
    if (opts.json) printJson(io, { id, revoked: true });
    else io.stdout.write(`Registration ${id} revoked: its token no longer works.\n`);
  });

  apiOptions(
    nodes
      .command("revoke")
      .description("revoke a node: its credential stops working and its agent is disconnected, for good")
      .argument("<node>", "id or name"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    const node = await client.revokeNode(found.id);
    if (opts.json) printJson(io, node);
    else
      io.stdout.write(
        `Node ${node.name} revoked: its credential no longer works and its agent was disconnected.\n` +
          `It stays listed; to bring the machine back, make a new registration token (a new node).\n`,
      );
  });

  apiOptions(
    nodes
      .command("reissue-token")
      .description(
        "give a node a new credential (printed once): every one it had stops working and its agent is disconnected now",
      )
      .argument("<node>", "id or name"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    const made = await client.reissueNodeCredential(found.id);
    if (opts.json) {
      printJson(io, made);
      return;
    }
    io.stdout.write(
      `New credential for node ${made.name} (id ${made.nodeId}); its old credential no longer works and its agent was disconnected.\n` +
        `Shown only this once:\n  ${made.credential}\n\n` +
        `On the node, stop the agent, replace its credential file (default <data dir>/node-credential, mode 0600),\n` +
        `e.g. with: install -m 600 /dev/stdin <data dir>/node-credential   (paste the credential, then Ctrl-D)\n` +
        `and start the agent again; the credential is rotated on its first connection.\n`,
    );
  });

  apiOptions(
    nodes
      .command("set-labels")
      .description("set a node's labels (the only source of node labels: agents cannot add any)")
      .argument("<node>", "id or name")
      .option("--label <label>", "label jobs can ask for (repeatable; none: no labels)", collect, [])
      .option("--required-label <label>", "only jobs with this label run here (repeatable)", collect),
  ).action(async (ref: string, opts: CommonOptions & { label: string[]; requiredLabel?: string[] }) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    const node = await setNodeLabels(client, found.id, {
      labels: opts.label,
      ...(opts.requiredLabel ? { requiredLabels: opts.requiredLabel } : {}),
    });
    if (opts.json) printJson(io, node);
    else
      io.stdout.write(`Node ${node.name} labels: ${list(node.labels)}; required: ${list(node.requiredLabels)}.
`);
  });

  apiOptions(
    nodes
      .command("set-pool")
      .description("move a node to another pool (a node that ran low-trust work stays tainted)")
      .argument("<node>", "id or name")
      .argument("<pool>"),
  ).action(async (ref: string, pool: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    const node = await setNodePool(client, found.id, pool);
    if (opts.json) printJson(io, node);
    else
      io.stdout.write(`Node ${node.name} is in pool ${node.pool}.
`);
  });

  apiOptions(
    nodes
      .command("set-worker")
      .description(
        "say whether a node is this installation's own (trusted) or a third party's (untrusted), and who runs it",
      )
      .argument("<node>", "id or name")
      .argument("<trust>", "trusted or untrusted")
      .option("--operator <name>", "who runs the node")
      .option("--no-operator", "this installation's operator runs it"),
  ).action(async (ref: string, trust: string, opts: WorkerOptions) => {
    if (trust !== "trusted" && trust !== "untrusted")
      failOnProblems([`the worker trust is trusted or untrusted, got '${trust}'`]);
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    // commander: --no-operator sets `operator` to false.
    const operator = (opts.operator as unknown) === false ? null : opts.operator;
    const node = await setNodeWorker(client, found.id, {
      workerTrust: trust as "trusted" | "untrusted",
      ...(operator !== undefined ? { operator } : {}),
    });
    if (opts.json) printJson(io, node);
    else
      io.stdout.write(
        `Node ${node.name} is ${node.workerTrust === "untrusted" ? "an" : "a"} ${worker(node)} worker.\n`,
      );
    if (node.workerTrust === "untrusted" && node.operator === null)
      io.stderr.write(
        "airlock: warning: an untrusted node with no operator never counts towards corroborated (name one with --operator)\n",
      );
  });

  apiOptions(
    nodes
      .command("unflag")
      .description("clear the flag set when builds a node took part in disagreed (after looking into it)")
      .argument("<node>", "id or name"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    const node = await clearNodeFlag(client, found.id);
    if (opts.json) printJson(io, node);
    else io.stdout.write(`Node ${node.name} is no longer flagged.\n`);
  });

  apiOptions(
    nodes
      .command("remove")
      .description("remove a node and its credential (refused while it runs machines: disable it first)")
      .argument("<node>", "id or name"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const found = await findByRef(ref, () => client.listNodes(), "node");
    await client.removeNode(found.id);
    if (opts.json) printJson(io, { removed: { id: found.id, name: found.name } });
    else io.stdout.write(`Node ${found.name} removed; its credential no longer works.\n`);
  });

  for (const enabled of [false, true]) {
    const verb = enabled ? "enable" : "disable";
    apiOptions(
      nodes
        .command(verb)
        .description(
          enabled ? "let a node take new jobs again" : "drain a node: running machines finish, no new ones",
        )
        .argument("<node>", "id or name"),
    ).action(async (ref: string, opts: CommonOptions) => {
      const client = await connect(opts, io);
      const found = await findByRef(ref, () => client.listNodes(), "node");
      const node = await client.setNodeEnabled(found.id, enabled);
      if (opts.json) printJson(io, node);
      else io.stdout.write(`Node ${node.name} ${enabled ? "enabled" : "disabled (draining)"}.\n`);
    });
  }
}
