// `airlock repos credentials|set-credential|remove-credential`: the credentials a repository's job
// source needs — a clone password (https), a deploy key (ssh, with known-hosts lines), a forge
// token. Values come from a file or standard input (`-`), never from the command line (`ps` and
// shell history would keep them); the server keeps them sealed and never gives them back.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { SetCredentialBody, SettableKind } from "../api/index.js";
import { apiOptions, connect, findByRef, printJson, type CliIo, type CommonOptions } from "./context.js";
import { table, time } from "./table.js";

const KINDS: readonly SettableKind[] = ["clone-password", "deploy-key", "forge-token"];

interface SetOptions extends CommonOptions {
  clonePasswordFile?: string;
  username?: string;
  deployKeyFile?: string;
  knownHostsFile?: string;
  forgeTokenFile?: string;
}

async function readSource(io: CliIo, file: string, what: string): Promise<string> {
  if (file === "-") return io.readStdin();
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new AirlockError(ErrorCode.USAGE, `cannot read the ${what} from ${file}`, { cause });
  }
}

/** A one-line value (password, token): its trailing line ending dropped. */
const oneLine = (text: string): string => text.replace(/\r?\n$/, "");

async function bodyOf(io: CliIo, o: SetOptions): Promise<{ kind: SettableKind; body: SetCredentialBody }> {
  const given = [o.clonePasswordFile, o.deployKeyFile, o.forgeTokenFile].filter((f) => f !== undefined);
  if (given.length !== 1)
    throw new AirlockError(
      ErrorCode.USAGE,
      "give one of --clone-password-file, --deploy-key-file, --forge-token-file (a file, or - for standard input)",
    );
  if (o.username !== undefined && o.clonePasswordFile === undefined)
    throw new AirlockError(ErrorCode.USAGE, "--username goes with --clone-password-file");
  if (o.knownHostsFile !== undefined && o.deployKeyFile === undefined)
    throw new AirlockError(ErrorCode.USAGE, "--known-hosts-file goes with --deploy-key-file");
  if (o.clonePasswordFile !== undefined) {
    const value = oneLine(await readSource(io, o.clonePasswordFile, "clone password"));
    return { kind: "clone-password", body: { value, ...(o.username ? { username: o.username } : {}) } };
  }
  if (o.deployKeyFile !== undefined) {
    const value = await readSource(io, o.deployKeyFile, "deploy key");
    const hosts =
      o.knownHostsFile === undefined ? undefined : await readSource(io, o.knownHostsFile, "known hosts");
    return { kind: "deploy-key", body: { value, ...(hosts !== undefined ? { knownHosts: hosts } : {}) } };
  }
  return {
    kind: "forge-token",
    body: { value: oneLine(await readSource(io, o.forgeTokenFile!, "forge token")) },
  };
}

export function registerCredentials(repos: Command, io: CliIo): void {
  apiOptions(
    repos
      .command("credentials")
      .description("which job-source credentials a repository has, when and by whom they were set")
      .argument("<repo>", "id or owner/repo"),
  ).action(async (ref: string, opts: CommonOptions) => {
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const all = await client.listCredentials(repo.id);
    if (opts.json) return printJson(io, all);
    io.stdout.write(
      table(
        ["KIND", "SET", "BY"],
        all.map((c) => [c.kind, time(c.setAt), c.setBy]),
      ),
    );
  });

  apiOptions(
    repos
      .command("set-credential")
      .description(
        "set a clone password, deploy key or forge token (write-only; read from a file or - for stdin)",
      )
      .argument("<repo>", "id or owner/repo")
      .option("--clone-password-file <file>", "password or token for an https clone URL")
      .option("--username <name>", "its user name (default x-access-token)")
      .option("--deploy-key-file <file>", "SSH private key for an ssh clone URL")
      .option("--known-hosts-file <file>", "known_hosts lines of the ssh server (else the server's own)")
      .option("--forge-token-file <file>", "API token of the forge"),
  ).action(async (ref: string, opts: SetOptions) => {
    const { kind, body } = await bodyOf(io, opts);
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const set = await client.setCredential(repo.id, kind, body);
    if (opts.json) return printJson(io, set);
    io.stdout.write(`The ${kind} of ${repo.name} is set.\n`);
  });

  apiOptions(
    repos
      .command("remove-credential")
      .description("remove a repository's clone-password, deploy-key or forge-token")
      .argument("<repo>", "id or owner/repo")
      .argument("<kind>", KINDS.join(", ")),
  ).action(async (ref: string, kind: string, opts: CommonOptions) => {
    if (!KINDS.includes(kind as SettableKind))
      throw new AirlockError(ErrorCode.USAGE, `unknown credential kind ${kind}: ${KINDS.join(", ")}`);
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    await client.removeCredential(repo.id, kind as SettableKind);
    if (!opts.json) io.stdout.write(`The ${kind} of ${repo.name} is removed.\n`);
    else printJson(io, { removed: { repository: repo.id, kind } });
  });
}
