// `airlock repos forge <repo>`: where a repository's commit statuses go — the forge kind and API
// URL (inferred from the clone URL's host or the repository's webhooks unless set here), and
// whether a forge token is set (`repos set-credential --forge-token-file`). Without options it
// shows; --kind / --api-url set, --infer clears both back to inferred.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RepositoryForge, RepositoryForgeBody } from "../api/index.js";
import { apiOptions, connect, findByRef, printJson, type CliIo, type CommonOptions } from "./context.js";

const KINDS = ["github", "gitlab", "gitea", "bitbucket"] as const;

interface ForgeOptions extends CommonOptions {
  kind?: string;
  apiUrl?: string;
  infer?: boolean;
}

function bodyOf(o: ForgeOptions): RepositoryForgeBody | undefined {
  if (o.infer && (o.kind !== undefined || o.apiUrl !== undefined))
    throw new AirlockError(ErrorCode.USAGE, "--infer excludes --kind and --api-url");
  if (o.infer) return { kind: null, apiUrl: null };
  if (o.kind === undefined && o.apiUrl === undefined) return undefined;
  const kind = o.kind === undefined ? undefined : KINDS.find((k) => k === o.kind);
  if (o.kind !== undefined && kind === undefined)
    throw new AirlockError(ErrorCode.USAGE, `--kind: expected one of ${KINDS.join(", ")}, got '${o.kind}'`);
  return { ...(kind ? { kind } : {}), ...(o.apiUrl !== undefined ? { apiUrl: o.apiUrl } : {}) };
}

export function forgeView(f: RepositoryForge): string {
  let out = `Repository ${f.name}\n`;
  out += `Forge:     ${f.resolved?.kind ?? f.kind ?? "unknown"}${f.kind ? " (set)" : " (inferred)"}\n`;
  out += `API URL:   ${f.resolved?.apiUrl ?? "none"}${f.apiUrl ? " (set)" : f.resolved ? " (inferred)" : ""}\n`;
  if (f.resolved) out += `Project:   ${f.resolved.path}\n`;
  out += `Token:     ${f.forgeToken ? "set" : "none (no commit statuses are sent)"}\n`;
  if (f.problem) out += `Problem:   ${f.problem}\n`;
  return out;
}

export function registerForge(repos: Command, io: CliIo): void {
  apiOptions(
    repos
      .command("forge")
      .description(
        "show or set where this repository's commit statuses go (forge kind and API URL; the token is a credential: set-credential --forge-token-file)",
      )
      .argument("<repo>", "id or owner/repo")
      .option(
        "--kind <kind>",
        `the forge: ${KINDS.join(", ")} (default: from the clone URL's host or the webhooks)`,
      )
      .option(
        "--api-url <url>",
        "the forge's API base, e.g. https://git.example.com/api/v4 (default: from the kind and host)",
      )
      .option("--infer", "forget --kind and --api-url: infer both again"),
  ).action(async (ref: string, opts: ForgeOptions) => {
    const body = bodyOf(opts);
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    const f = body
      ? await client.setRepositoryForge(repo.id, body)
      : await client.getRepositoryForge(repo.id);
    if (opts.json) printJson(io, f);
    else io.stdout.write(forgeView(f));
  });
}
