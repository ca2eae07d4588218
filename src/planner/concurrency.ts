// `concurrency:` (GitHub's "Control the concurrency of workflows and jobs"): evaluating a group and
// its cancel-in-progress, and the in-memory groups of a local run (`airlock run`), where one
// process sees every member. The orchestrator keeps its groups in PostgreSQL instead
// (src/orchestrator/concurrency/). Semantics, as documented by GitHub: at most one running and one
// pending member per group; a newer pending member cancels the older pending one; with
// cancel-in-progress it also cancels the running one; names compare case-insensitively.
import { evaluateTemplate, toExpressionString } from "../expressions/index.js";
import type { JobResult } from "../runner/types.js";
import type { ConcurrencyTemplate, Workflow } from "../workflow/model.js";
import { githubContext } from "./context.js";
import type { Concurrency, InstanceExecutor, RunOptions } from "./types.js";

/** GitHub refuses longer group names. */
export const MAX_GROUP_LENGTH = 400;

export const groupKey = (group: string): string => group.toLowerCase();

/** Evaluates `concurrency:`; an empty group means none. Throws a one-line Error for a bad name. */
export function evaluateConcurrency(
  tpl: ConcurrencyTemplate | undefined,
  ctx: Record<string, unknown>,
): Concurrency | undefined {
  if (tpl === undefined) return undefined;
  const group = toExpressionString(evaluateTemplate(tpl.group, ctx));
  if (group === "") return undefined;
  // eslint-disable-next-line no-control-regex
  if (group.length > MAX_GROUP_LENGTH || /[\u0000-\u001f\u007f]/.test(group))
    throw new Error(
      `concurrency group ${JSON.stringify(group.slice(0, 40))} is not valid: up to ${MAX_GROUP_LENGTH} characters, no control characters`,
    );
  const cancel = tpl.cancelInProgress === undefined ? false : evaluateTemplate(tpl.cancelInProgress, ctx);
  return { group, cancelInProgress: truthy(cancel) };
}

/** The workflow-level group of a run (contexts: github, inputs, vars). */
export function workflowConcurrency(
  opts: Pick<RunOptions, "event" | "payload" | "repo" | "fullName" | "ref" | "identity" | "inputs" | "vars">,
  workflow: Workflow,
): Concurrency | undefined {
  const github = githubContext({ ...opts, workflowName: workflow.name, workflowFile: workflow.file });
  return evaluateConcurrency(workflow.concurrency, { github, inputs: opts.inputs, vars: opts.vars });
}

function truthy(v: unknown): boolean {
  return (
    v === true || (typeof v === "string" && v !== "" && v !== "false") || (typeof v === "number" && v !== 0)
  );
}

interface Member {
  id: number;
  /** Ends the member: cancels its wait (pending) or its job (running), with a reason. */
  cancel(reason: string): void;
}

interface Group {
  running?: Member;
  pending?: Member;
  /** Members waiting for `running` to end, in arrival order; only the last is `pending`. */
  promote?: () => void;
}

/**
 * The groups of one local run. Job instances of one run that share a group run one at a time:
 * a later instance waits; a third one cancels the waiting one; with cancel-in-progress a later one
 * cancels the running one (and starts once it has ended).
 */
export function withConcurrencyGroups(
  inner: InstanceExecutor,
  /** The workflow-level group of the workflow file's run (held by the run while it runs). */
  runGroup: (workflowFile: string) => string | undefined = () => undefined,
): InstanceExecutor {
  const groups = new Map<string, Group>();
  let next = 0;
  return {
    async run(req) {
      const c = req.concurrency;
      if (c === undefined) return inner.run(req);
      const key = groupKey(c.group);
      const held = runGroup(req.instance.workflow);
      // The job would wait for its own run forever: GitHub cancels it ("deadlock"), as the
      // orchestrator does (src/orchestrator/concurrency/join.ts).
      if (held !== undefined && groupKey(held) === key)
        return cancelledResult(
          `cancelled: concurrency group '${c.group}' is held by this job's own run (workflow level): the job would wait for itself`,
        );
      const g = groups.get(key) ?? {};
      groups.set(key, g);
      const own = new AbortController();
      let why: string | undefined;
      const me: Member = {
        id: ++next,
        cancel: (reason) => {
          why ??= reason;
          own.abort();
        },
      };
      const by = `job ${JSON.stringify(req.instance.name)}`;
      if (g.pending) g.pending.cancel(`superseded in concurrency group '${c.group}' by ${by}`);
      if (c.cancelInProgress && g.running)
        g.running.cancel(
          `cancelled in progress by ${by} (concurrency group '${c.group}', cancel-in-progress)`,
        );
      if (g.running) {
        g.pending = me;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            own.signal.removeEventListener("abort", done);
            req.signal.removeEventListener("abort", done);
            resolve();
          };
          g.promote = done;
          own.signal.addEventListener("abort", done, { once: true });
          req.signal.addEventListener("abort", done, { once: true });
        });
        if (g.pending === me) {
          g.pending = undefined;
          g.promote = undefined;
        }
        if (own.signal.aborted || req.signal.aborted) return cancelledResult(why);
      }
      g.running = me;
      try {
        const result = await inner.run({ ...req, signal: AbortSignal.any([req.signal, own.signal]) });
        return why !== undefined && result.conclusion === "cancelled" ? { ...result, error: why } : result;
      } finally {
        if (g.running === me) g.running = undefined;
        const promote = g.promote;
        g.promote = undefined;
        promote?.();
      }
    },
  };
}

function cancelledResult(error: string | undefined): JobResult {
  return { conclusion: "cancelled", outputs: {}, steps: [], durationMs: 0, ...(error ? { error } : {}) };
}
