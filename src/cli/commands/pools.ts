// `airlock pools list|add|update|remove|set-group` and `airlock authorizations list|grant|approve|revoke`
// (docs/security.md "Pools and authorizations"): which nodes run which trust tier, and which
// repository may use which closed pool. Server administrators only.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import * as api from "../api/pools.js";
import type { ApiClient } from "../api/index.js";
import {
  apiOptions,
  connect,
  findByRef,
  idArgument,
  listCommand,
  printJson,
  type CliIo,
  type CommonOptions,
} from "./context.js";
import { table, time } from "./table.js";

const poolsTable = (pools: api.PoolView[]): string =>
  table(
    ["NAME", "TRUST", "GROUP", "OPEN", "DEPLOY", "NODES"],
    pools.map((p) => [
      p.name,
      p.trust,
      p.group ?? "-",
      p.open ? "yes" : "no",
      p.deploy ? "yes" : "no",
      p.nodes,
    ]),
  );

const authorizationsTable = (auths: api.AuthorizationView[]): string =>
  table(
    ["ID", "REPOSITORY", "POOL", "STATE", "REQUESTED", "DECIDED BY", "DECIDED"],
    auths.map((a) => [
      a.id,
      a.repository,
      a.pool ?? `group ${a.group ?? "?"}`,
      a.state,
      time(a.requestedAt),
      a.decidedBy ?? "-",
      time(a.decidedAt),
    ]),
  );

const repoId = async (c: ApiClient, ref: string): Promise<number> =>
  (await findByRef(ref, () => c.listRepositories(), "repository")).id;

export function registerPools(program: Command, io: CliIo): void {
  const pools = program.command("pools").description("pools of nodes, each with a trust tier (low or high)");
  listCommand(pools, io, { what: "pools", fetch: (c) => api.listPools(c), render: poolsTable });

  apiOptions(
    pools
      .command("add")
      .description("add a pool; closed unless --open (repositories then need an authorization)")
      .argument("<name>")
      .requiredOption("--trust <tier>", "low (untrusted runs) or high (trusted runs)")
      .option("--group <group>", "authorizations for this group cover the pool")
      .option("--open", "every repository may use it without an authorization")
      .option("--deploy", "a deploy pool (high trust only): its jobs consume only promotable artifacts"),
  ).action(
    async (
      name: string,
      o: CommonOptions & { trust: string; group?: string; open?: boolean; deploy?: boolean },
    ) => {
      const p = await api.createPool(await connect(o, io), {
        name,
        trust: o.trust as "low",
        ...(o.group ? { group: o.group } : {}),
        ...(o.open ? { open: true } : {}),
        ...(o.deploy ? { deploy: true } : {}),
      });
      if (o.json) printJson(io, p);
      else
        io.stdout.write(
          `Pool ${p.name} added (${p.trust} trust${p.open ? ", open" : ""}${p.deploy ? ", deploy" : ""}).\n`,
        );
    },
  );

  apiOptions(
    pools
      .command("update")
      .description(
        "change a pool: --deploy makes it a deploy pool (high trust only), --no-deploy an ordinary one",
      )
      .argument("<name>")
      .option("--deploy", "its jobs consume only artifacts the promotion gate allows")
      .option("--no-deploy", "an ordinary pool again"),
  ).action(async (name: string, o: CommonOptions & { deploy?: boolean }) => {
    if (o.deploy === undefined)
      throw new AirlockError(ErrorCode.USAGE, "say what to change: --deploy or --no-deploy");
    const p = await api.setPoolDeploy(await connect(o, io), name, o.deploy);
    if (o.json) printJson(io, p);
    else io.stdout.write(`Pool ${p.name} is ${p.deploy ? "a deploy pool" : "not a deploy pool"}.\n`);
  });

  apiOptions(
    pools
      .command("set-group")
      .description("put a pool in a group (--none: out of any)")
      .argument("<name>")
      .argument("[group]"),
  ).action(async (name: string, group: string | undefined, o: CommonOptions) => {
    const p = await api.setPoolGroup(await connect(o, io), name, group ?? null);
    if (o.json) printJson(io, p);
    else io.stdout.write(`Pool ${p.name} is ${p.group ? `in group ${p.group}` : "in no group"}.\n`);
  });

  apiOptions(pools.command("remove").description("remove an empty pool").argument("<name>")).action(
    async (name: string, o: CommonOptions) => {
      await api.removePool(await connect(o, io), name);
      if (o.json) printJson(io, { name, removed: true });
      else io.stdout.write(`Pool ${name} removed.\n`);
    },
  );

  const auths = program
    .command("authorizations")
    .description("which repository may use which closed pool (requested on first use, approved by an admin)");
  apiOptions(
    auths
      .command("list")
      .description("list authorizations")
      .option("--repo <repository>", "only this repository's (id or name)")
      .option("--state <state>", "requested, approved or revoked"),
  ).action(async (o: CommonOptions & { repo?: string; state?: string }) => {
    const c = await connect(o, io);
    const list = await api.listAuthorizations(c, {
      ...(o.repo ? { repository: await repoId(c, o.repo) } : {}),
      ...(o.state ? { state: o.state } : {}),
    });
    if (o.json) printJson(io, list);
    else io.stdout.write(list.length === 0 ? "No authorizations.\n" : authorizationsTable(list));
  });

  apiOptions(
    auths
      .command("grant")
      .description("let a repository use a pool or a whole pool group (approved at once)")
      .argument("<repository>", "id or name")
      .option("--pool <pool>")
      .option("--group <group>"),
  ).action(async (ref: string, o: CommonOptions & { pool?: string; group?: string }) => {
    const c = await connect(o, io);
    const a = await api.grantAuthorization(c, {
      repository: await repoId(c, ref),
      ...(o.pool ? { pool: o.pool } : {}),
      ...(o.group ? { group: o.group } : {}),
    });
    if (o.json) printJson(io, a);
    else io.stdout.write(`Authorization ${a.id}: ${a.repository} may use ${a.pool ?? `group ${a.group}`}.\n`);
  });

  apiOptions(
    auths.command("approve").description("approve a requested authorization").argument("<id>"),
  ).action(async (ref: string, o: CommonOptions) => {
    const a = await api.approveAuthorization(await connect(o, io), idArgument(ref, "authorization"));
    if (o.json) printJson(io, a);
    else
      io.stdout.write(
        `Authorization ${a.id} approved: ${a.repository} may use ${a.pool ?? `group ${a.group}`}.\n`,
      );
  });

  apiOptions(
    auths
      .command("revoke")
      .description(
        "revoke: no new machines for the repository there; --cancel-running also cancels its running jobs",
      )
      .argument("<id>")
      .option("--cancel-running", "cancel the repository's jobs running in the pool(s) now"),
  ).action(async (ref: string, o: CommonOptions & { cancelRunning?: boolean }) => {
    const a = await api.revokeAuthorization(
      await connect(o, io),
      idArgument(ref, "authorization"),
      !!o.cancelRunning,
    );
    if (o.json) printJson(io, a);
    else
      io.stdout.write(
        `Authorization ${a.id} revoked.${a.cancelledJobs.length > 0 ? ` Cancelled jobs: ${a.cancelledJobs.join(", ")}.` : ""}\n`,
      );
  });
}
