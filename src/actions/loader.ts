// The ActionLoader: `./path` actions are read from the machine's workspace; `owner/repo[/path]@ref`
// actions are fetched into the host cache and the repository tree is copied into the machine once
// per commit; `docker://` references are returned for the runner to refuse or run.
import { posix } from "node:path";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import type { Machine } from "../provisioners/types.js";
import type { ActionLoader, ActionManifest, LoadedAction, ResolvedAction } from "../runner/types.js";
import { TreeFetcher } from "./fetch.js";
import type { ActionsOptions } from "./location.js";
import { MANIFEST_NAMES, parseManifestOrThrow, readHostManifest } from "./manifest.js";
import { parseUses } from "./uses.js";
import { MAX_FILE_BYTES } from "../workflow/index.js";

// Per machine: repository trees already copied in (or being copied), by inner folder. Shared by
// every loader, since copying into the same folder twice at once would collide.
const copied = new WeakMap<Machine, Map<string, Promise<void>>>();

function copyOnce(machine: Machine, hostDir: string, innerDir: string): Promise<void> {
  let m = copied.get(machine);
  if (!m) copied.set(machine, (m = new Map()));
  let p = m.get(innerDir);
  if (!p) {
    const mine = machine.copyIn(hostDir, innerDir);
    m.set(innerDir, (p = mine));
    mine.catch(() => m.delete(innerDir));
  }
  return p;
}

export function createActionLoader(opts: ActionsOptions): ActionLoader {
  const fetcher = new TreeFetcher(opts);
  return {
    async load(uses: string, machine: Machine, pins?: readonly ResolvedAction[]): Promise<LoadedAction> {
      const parsed = parseUses(uses);
      switch (parsed.kind) {
        case "docker":
          return { uses, dir: machine.paths.workspace, manifest: dockerManifest(parsed.image) };
        case "local": {
          const dir = posix.join(machine.paths.workspace, parsed.path);
          return { uses, dir, manifest: await readMachineManifest(machine, dir, parsed.path) };
        }
        case "remote": {
          const { owner, repo, path, ref } = parsed;
          // Pinned by the orchestrator: that commit (a ref that moved since is not followed).
          const pin = pins?.find((p) => p.name === `${owner}/${repo}` && p.ref === ref);
          const tree = await fetcher.fetch(owner, repo, pin?.commit ?? ref);
          const manifest = await readHostManifest(tree.treeDir, path, `${owner}/${repo}@${ref}`);
          const innerRepo = posix.join(machine.paths.actions, owner, repo, tree.commit);
          await copyOnce(machine, tree.treeDir, innerRepo);
          return { uses, dir: path ? posix.join(innerRepo, path) : innerRepo, manifest };
        }
      }
    },
  };
}

/** `docker://image` behaves like an action whose manifest runs that image. */
function dockerManifest(image: string): ActionManifest {
  return {
    name: `docker://${image}`,
    inputs: {},
    outputs: {},
    runs: { using: "docker", image: `docker://${image}` },
  };
}

async function readMachineManifest(machine: Machine, dir: string, rel: string): Promise<ActionManifest> {
  for (const name of MANIFEST_NAMES) {
    // The machine refuses symlinks that leave it (MACHINE_PATH_ESCAPE).
    let data: Buffer | undefined;
    try {
      data = await machine.readFile(posix.join(dir, name), { maxBytes: MAX_FILE_BYTES });
    } catch (err) {
      if (!isAirlockError(err, "MACHINE_FILE_TOO_LARGE")) throw err;
      const msg = `./${posix.join(rel, name)}: the file is larger than ${MAX_FILE_BYTES} bytes; refused`;
      throw new AirlockError(ErrorCode.ACTION_INVALID, msg);
    }
    if (data !== undefined) return await parseManifestOrThrow(posix.join(rel, name), data.toString("utf8"));
  }
  // GitHub's wording (actions/runner ActionManager.LoadAction), with the folder inside the machine.
  throw new AirlockError(
    ErrorCode.ACTION_NOT_FOUND,
    `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '${dir}'. Did you forget to run actions/checkout before running your local action?`,
  );
}
