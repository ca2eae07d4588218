// The control plane's word on which code a job's actions are (issue 13, item 7): every remote
// `uses: owner/repo@ref` of the job's steps, and recursively of the remote composite actions they
// call, resolved to a commit from the orchestrator's own actions URL when the job is queued. The
// job carries the pins (JobDescription.resolvedActions), the node's loader fetches exactly those
// commits, and the artifact's provenance lists them: what a worker says it ran is never asked.
// Local (`./path`) actions come with the repository's commit; docker:// images and the built-in
// actions/checkout are not fetched from git, so they have no commit to pin.
import type { ResolvedAction } from "../runner/types.js";
import type { StepTemplate } from "../workflow/model.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { TreeFetcher } from "./fetch.js";
import { repoLocation, stripCredentials, type ActionsOptions } from "./location.js";
import { readHostManifest } from "./manifest.js";
import { isCheckoutAction, parseUses } from "./uses.js";

/** As deep as the runner nests composite actions (src/runner/state.ts MAX_ACTION_DEPTH). */
const MAX_DEPTH = 10;
/** Distinct owner/repo@ref per job: far more than any real job, bounded against hostile ones. */
const MAX_ACTIONS = 200;

export interface ActionPinner {
  /** The job's remote actions at their commits, in first-use order. Throws ACTION_* as the loader would. */
  pin(steps: readonly StepTemplate[]): Promise<ResolvedAction[]>;
}

/**
 * One per run: a branch or tag resolves once for the run's life, so every job (and every replica of
 * a job built for corroboration) gets the same commit for the same ref.
 */
export function createActionPinner(opts: ActionsOptions): ActionPinner {
  const fetcher = new TreeFetcher(opts);
  return {
    async pin(steps) {
      const found = new Map<string, ResolvedAction>();
      const walked = new Set<string>();
      const walk = async (list: readonly StepTemplate[], depth: number): Promise<void> => {
        for (const step of list) {
          const uses = step.uses;
          if (uses === undefined || uses.startsWith("docker://") || isCheckoutAction(uses)) continue;
          const u = parseUses(uses);
          if (u.kind !== "remote") continue;
          const key = `${u.owner}/${u.repo}@${u.ref}`;
          const known = found.get(key);
          if (known === undefined) {
            if (found.size >= MAX_ACTIONS)
              throw new AirlockError(
                ErrorCode.ACTION_INVALID,
                `a job may use at most ${MAX_ACTIONS} actions`,
              );
          }
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
          const manifest = await readHostManifest(tree.treeDir, u.path, key);
          if (manifest.runs.using === "composite") await walk(manifest.runs.steps, depth + 1);
        }
      };
      await walk(steps, 0);
      return [...found.values()];
    },
  };
}
