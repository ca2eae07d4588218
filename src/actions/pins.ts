// The control plane's word on which code a job's actions are (issue 13, item 7): every remote
// `uses: owner/repo@ref` of the job's steps, and recursively of the composite actions they call,
// resolved to a commit from the orchestrator's own actions URL when the job is queued. The job
// carries the pins (JobDescription.resolvedActions), the node's loader fetches exactly those
// commits, and the artifact's provenance lists them: what a worker says it ran is never asked.
// Local (`./path`) actions come with the repository's commit: they are read from the repository
// at that commit (readLocal) and walked for the remote actions they call. `./` always means the
// workflow repository's workspace, also inside a remote composite (as on GitHub and in the
// runner's loader). docker:// images and the built-in actions/checkout have no commit to pin.
import type { ActionManifest, ResolvedAction } from "../runner/types.js";
import type { StepTemplate } from "../workflow/model.js";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import { TreeFetcher } from "./fetch.js";
import { repoLocation, stripCredentials, type ActionsOptions } from "./location.js";
import { MANIFEST_NAMES, parseManifestOrThrow, readHostManifest } from "./manifest.js";
import { isCheckoutAction, parseUses, type ParsedUses } from "./uses.js";

/** As deep as the runner nests composite actions (src/runner/state.ts MAX_ACTION_DEPTH). */
const MAX_DEPTH = 10;
/** Distinct owner/repo@ref (and local action folders) per job: bounded against hostile jobs. */
const MAX_ACTIONS = 200;

/**
 * A file of the workflow repository at the run's commit (a path like `.github/actions/x/action.yml`):
 * its text, or undefined when it is not a regular file there. May throw FILE_TOO_LARGE.
 */
export type ReadRepoFile = (path: string) => Promise<string | undefined>;

export interface ActionPinner {
  /** The job's remote actions at their commits, in first-use order. Throws ACTION_* as the loader would. */
  pin(steps: readonly StepTemplate[]): Promise<ResolvedAction[]>;
}

/**
 * Problems of a job's own making, which the node reports when the step runs: a bad reference, an
 * unknown ref, a repository that is not there (a fetch failure that is not the network's).
 */
function jobMistake(err: unknown): boolean {
  if (!isAirlockError(err)) return false;
  if (err.code === ErrorCode.ACTION_FETCH_FAILED) return !err.retryable;
  return err.code === ErrorCode.ACTION_INVALID || err.code === ErrorCode.ACTION_NOT_FOUND;
}

/**
 * One per run: a branch or tag resolves once for the run's life, so every job (and every replica of
 * a job built for corroboration) gets the same commit for the same ref. Without `readLocal`, local
 * actions are not walked (their remote actions are then resolved by the node).
 */
export function createActionPinner(
  opts: ActionsOptions,
  sources: { readLocal?: ReadRepoFile } = {},
): ActionPinner {
  const fetcher = new TreeFetcher(opts);
  const { readLocal } = sources;
  // Local manifests by folder, read once per run (the commit does not change); undefined: unknown.
  const locals = new Map<string, Promise<ActionManifest | undefined>>();
  const localManifest = (path: string): Promise<ActionManifest | undefined> => {
    let p = locals.get(path);
    if (!p && readLocal) {
      locals.set(path, (p = readLocalManifest(readLocal, path)));
      p.catch(() => locals.delete(path)); // a failing read is tried again by the next job
    }
    return p ?? Promise.resolve(undefined);
  };
  return {
    async pin(steps) {
      const found = new Map<string, ResolvedAction>();
      const walked = new Set<string>();
      let localCount = 0;
      // `lenient`: below a local action. Its manifest is the repository's at the commit, which is
      // what the node runs unless a step changed the workspace; a mistake found there is left to
      // the node to report when (and if) the step runs, as it was before local actions were walked.
      const walk = async (list: readonly StepTemplate[], depth: number, lenient: boolean): Promise<void> => {
        for (const step of list) {
          const uses = step.uses;
          if (uses === undefined || uses.startsWith("docker://") || isCheckoutAction(uses)) continue;
          let u: ParsedUses;
          try {
            u = parseUses(uses);
          } catch (err) {
            if (lenient && jobMistake(err)) continue;
            throw err;
          }
          if (u.kind === "local") {
            const folder = `./${u.path}`;
            if (!readLocal || walked.has(folder) || depth >= MAX_DEPTH) continue;
            walked.add(folder);
            if (++localCount > MAX_ACTIONS)
              throw new AirlockError(
                ErrorCode.ACTION_INVALID,
                `a job may use at most ${MAX_ACTIONS} local actions`,
              );
            const manifest = await localManifest(u.path);
            if (manifest?.runs.using === "composite") await walk(manifest.runs.steps, depth + 1, true);
            continue;
          }
          if (u.kind !== "remote") continue;
          const key = `${u.owner}/${u.repo}@${u.ref}`;
          const known = found.get(key);
          if (known === undefined && found.size >= MAX_ACTIONS)
            throw new AirlockError(ErrorCode.ACTION_INVALID, `a job may use at most ${MAX_ACTIONS} actions`);
          let manifest: ActionManifest | undefined;
          try {
            const tree = await fetcher.fetch(u.owner, u.repo, u.ref);
            if (known === undefined) {
              const url = stripCredentials(repoLocation(opts, u.owner, u.repo).url);
              found.set(key, { name: `${u.owner}/${u.repo}`, ref: u.ref, commit: tree.commit, url });
            }
            // Each action folder is read once (a composite used twice, or calling itself, is not
            // walked again); past the runner's depth the runner refuses the step anyway.
            const folder = `${key}:${u.path}`;
            if (walked.has(folder) || depth >= MAX_DEPTH) continue;
            walked.add(folder);
            manifest = await readHostManifest(tree.treeDir, u.path, key);
          } catch (err) {
            if (lenient && jobMistake(err)) continue;
            throw err;
          }
          if (manifest.runs.using === "composite") await walk(manifest.runs.steps, depth + 1, lenient);
        }
      };
      await walk(steps, 0, false);
      return [...found.values()];
    },
  };
}

/**
 * A local action's manifest from the repository at the commit: action.yml, else action.yaml, as
 * the loader reads them. Undefined when there is none (made at run time, or from another
 * repository checked out into the workspace), or it is too large or invalid: the node decides.
 */
async function readLocalManifest(read: ReadRepoFile, path: string): Promise<ActionManifest | undefined> {
  for (const name of MANIFEST_NAMES) {
    const rel = path === "." ? name : `${path}/${name}`;
    let content: string | undefined;
    try {
      content = await read(rel);
    } catch (err) {
      if (isAirlockError(err, ErrorCode.FILE_TOO_LARGE)) return undefined;
      throw err;
    }
    if (content === undefined) continue;
    try {
      return await parseManifestOrThrow(rel, content);
    } catch (err) {
      if (isAirlockError(err, ErrorCode.ACTION_INVALID)) return undefined;
      throw err;
    }
  }
  return undefined;
}
