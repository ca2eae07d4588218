// `airlock nodes list|add|disable|enable`: the machines' hosts. `add` prints the agent token
// once; disable drains a node (running machines finish, no new ones start).
import type { Command } from "commander";
import type { Node } from "../api/index.js";
import {
  apiOptions,
  collect,
  connect,
  listCommand,
  findByRef,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { list, table, time } from "./table.js";

interface AddOptions extends CommonOptions {
  label: string[];
  requiredLabel: string[];
}

// A node reports its capacity when its agent first connects; until then the server holds zeros.
const capacity = (n: Node): string =>
  !n.cpus ? "-" : `${n.cpus} cpu, ${n.memoryMb ?? "?"} MiB, ${n.diskMb ?? "?"} MiB disk`;

export function nodesTable(nodes: Node[]): string {
  return table(
    ["ID", "NAME", "STATUS", "RUNNING", "LABELS", "REQUIRED", "CAPACITY", "LAST SEEN"],
    nodes.map((n) => [
      n.id,
      n.name,
      `${n.enabled ? "enabled" : "disabled"}, ${n.connected ? "connected" : "offline"}`,
      n.running,
      list(n.labels),
      list(n.requiredLabels),
      capacity(n),
      time(n.lastSeenAt),
    ]),
  );
}

export function registerNodes(program: Command, io: CliIo): void {
  const nodes = program.command("nodes").description("nodes that run machines (each runs `airlock agent`)");

  listCommand(nodes, io, { what: "nodes", fetch: (c) => c.listNodes(), render: nodesTable });

  apiOptions(
    nodes
      .command("add")
      .description("register a node; prints the token its agent connects with, once")
      .argument("<name>")
      .option("--label <label>", "label jobs can ask for (repeatable)", collect, [])
      .option("--required-label <label>", "only jobs with this label run here (repeatable)", collect, []),
  ).action(async (name: string, opts: AddOptions) => {
    const client = await connect(opts, io);
    const { node, token } = await client.addNode({
      name,
      labels: opts.label,
      requiredLabels: opts.requiredLabel,
    });
    if (opts.json) {
      printJson(io, { node, token });
      return;
    }
    io.stdout.write(`Node ${node.name} added (id ${node.id}).\n\n`);
    io.stdout.write("Agent token (shown only this once):\n");
    io.stdout.write(`  ${token}\n\n`);
    io.stdout.write(
      `Start the agent on the node:\n  airlock agent --server ${client.server} --token ${token}\n`,
    );
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
