// `on: workflow_run`: when a run of a workflow named in `workflows:` is requested, starts
// (in_progress) or completes, the workflows listening for it run — from the default branch's
// latest commit, with github.event.workflow_run describing the triggering run — as on GitHub.
//
// Announcements are read from the database, not hooked into every place that changes a run's
// state: each tick (Loop in loops.ts; tests call tick()) looks at runs whose
// `workflow_run_announced` (migrations/025_triggers.sql) is behind their state and moves it forward
// one step at a time with a conditional UPDATE — the claim — before making the runs of that step.
// So each event is announced once, whichever orchestrator process sees it first, also across
// restarts; a failure after the claim loses that one event (logged), never doubles it.
//
// Chains: GitHub runs no more than three levels of workflow_run (A → B → C → D; D's events start
// nothing). A run's level is the number of workflow_run runs in its chain (read from the
// triggering run's id that each workflow_run payload carries, which Airlock itself wrote).
//
// Trust (docs/architecture.md, "Trust tiers"): the runs made here are trusted — their workflow
// and code are the default branch's, as with pull_request_target — but an untrusted run announces
// nothing until a maintainer approved it (a rejected one never does), so a fork cannot start a
// privileged run by opening a pull request. Values from the triggering run (its branch, title)
// are data in github.event, hostile like any pull request's.
import type pg from "pg";
import type { Logger } from "pino";
import { defaultPayload } from "../planner/index.js";
import { workflowsAt, type RepoMirror } from "../sources/index.js";
import { parseWorkflowOffLoop, type Workflow } from "../workflow/index.js";
import type { CoreConfig } from "./config.js";
import { getRepo, type RepoRow } from "./repos.js";
import { defaultHead, fullRef, mirrorFor, repoInfo, type CoreRunsService, type SourceAuth } from "./runs.js";
import { makeLinks } from "./views/index.js";

/** GitHub's limit: at most this many workflow_run levels after the first run. */
export const MAX_WORKFLOW_RUN_DEPTH = 3;

const TYPES = ["requested", "in_progress", "completed"] as const;
export type WorkflowRunType = (typeof TYPES)[number];

/** Runs looked at per tick; the rest wait for the next one. */
const BATCH = 100;

export interface WorkflowRunDeps {
  pool: pg.Pool;
  config: CoreConfig;
  logger: Logger;
  runs: CoreRunsService;
  sourceAuth?: SourceAuth;
}

interface PendingRun {
  id: string;
  repository_id: string;
  number: number;
  attempt: number;
  event: string;
  ref: string;
  commit: string;
  actor: string;
  title: string;
  payload: Record<string, unknown>;
  workflow_file: string;
  workflow_name: string;
  state: "queued" | "running" | "completed";
  conclusion: string | null;
  error: string | null;
  trust_tier: string;
  approval: string | null;
  announced: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export class WorkflowRunEvents {
  constructor(private readonly d: WorkflowRunDeps) {}

  /** Announces every pending workflow_run event. Returns the number of runs it made. */
  async tick(): Promise<number> {
    const { rows } = await this.d.pool.query<PendingRun>(
      `SELECT id, repository_id, number, event, ref, commit, actor, title, payload, workflow_file, workflow_name,
              state, conclusion, error, trust_tier, approval, attempt, workflow_run_announced AS announced,
              created_at, started_at, finished_at
         FROM runs
        WHERE workflow_run_announced < 3
          -- only runs with something to announce now (targetLevel), so that runs queued for long
          -- never crowd newer ones out of the batch
          AND (state = 'completed'
               OR (approval IS DISTINCT FROM 'required'
                   AND workflow_run_announced < CASE state WHEN 'running' THEN 2 ELSE 1 END))
        ORDER BY id LIMIT ${BATCH}`,
    );
    // Per tick, each repository's default branch is fetched and read once.
    const listeners = new Map<number, Promise<Listeners>>();
    let made = 0;
    for (const run of rows) {
      const target = targetLevel(run);
      for (let level = run.announced + 1; level <= target; level++) {
        const claimed = await this.d.pool.query(
          `UPDATE runs SET workflow_run_announced = $2 WHERE id = $1 AND workflow_run_announced = $2 - 1`,
          [run.id, level],
        );
        if (claimed.rowCount !== 1) break; // another process announces this run
        // Skipped steps (a run that never started) are claimed without being announced.
        if (!announces(run, level)) continue;
        const type = TYPES[level - 1] ?? "completed";
        try {
          made += await this.announce(run, type, listeners);
        } catch (err) {
          this.d.logger.error(
            { err, runId: Number(run.id), type },
            "workflow_run event could not be announced: it is skipped",
          );
        }
      }
    }
    return made;
  }

  private async announce(
    run: PendingRun,
    type: WorkflowRunType,
    cache: Map<number, Promise<Listeners>>,
  ): Promise<number> {
    const repositoryId = Number(run.repository_id);
    let got = cache.get(repositoryId);
    if (!got) {
      got = this.listenersOf(repositoryId);
      cache.set(repositoryId, got);
    }
    const l = await got;
    if (l.workflows.length === 0) return 0;
    const depth = await chainDepth(this.d.pool, Number(run.id));
    if (depth >= MAX_WORKFLOW_RUN_DEPTH) {
      this.d.logger.info(
        { runId: Number(run.id), depth },
        "workflow_run: chain limit reached (GitHub runs at most three levels); no workflow started",
      );
      return 0;
    }
    const headBranch = headBranchOf(run);
    const ref = fullRef(l.repo.defaultBranch);
    const actor = run.actor;
    const info = repoInfo(l.repo, l.commit, ref, undefined, actor, "");
    const workflowRun = describeRun(this.d.config, l.repo, run, type, headBranch);
    const made = await this.d.runs.create(l.repo, {
      event: "workflow_run",
      action: type,
      ref,
      commit: l.commit,
      // The `branches:` filter is about the triggering run's branch; a run without one (a pull
      // request's merge ref) matches only workflows without a branch filter.
      baseRef: headBranch === null ? "refs/airlock/no-branch" : fullRef(headBranch),
      aboutWorkflow: run.workflow_name,
      payload: {
        ...defaultPayload("workflow_run", info, l.repo.name, {}),
        action: type,
        workflow_run: workflowRun,
        workflow: { name: run.workflow_name, path: run.workflow_file },
        sender: { login: actor },
      },
      inputs: {},
      actor,
      title: `${run.workflow_name} ${type}: run ${run.id}`,
      trigger: "workflow_run",
    });
    return made.length;
  }

  /**
   * The default branch's workflows that listen for workflow_run. The mirror as last fetched is
   * read first (every push and poll fetches it, so a listener added by a push is there): when
   * nothing listens, the forge is not asked at all; otherwise it is fetched now, for the latest
   * commit and workflow files.
   */
  private async listenersOf(repositoryId: number): Promise<Listeners> {
    const repo = await getRepo(this.d.pool, repositoryId);
    const mirror = mirrorFor(this.d.config, repo, this.d.sourceAuth);
    const known = await mirror.resolve(fullRef(repo.defaultBranch));
    if (known !== undefined && (await listenersAt(mirror, known)).length === 0)
      return { repo, commit: known, workflows: [] };
    const commit = await defaultHead(mirror, repo);
    return { repo, commit, workflows: await listenersAt(mirror, commit) };
  }
}

async function listenersAt(mirror: RepoMirror, commit: string): Promise<Workflow[]> {
  const found = await workflowsAt(mirror, commit);
  const workflows: Workflow[] = [];
  for (const f of found.files) {
    if (!f.content.includes("workflow_run")) continue;
    const parsed = await parseWorkflowOffLoop(f.path, f.content);
    if (parsed.workflow?.on.workflow_run) workflows.push(parsed.workflow);
  }
  return workflows;
}

interface Listeners {
  repo: RepoRow;
  commit: string;
  workflows: Workflow[];
}

/** How far a run's events can be announced now: 1 requested, 2 in_progress, 3 completed. */
function targetLevel(run: PendingRun): number {
  // An untrusted run waiting for a maintainer announces nothing yet; a rejected one never will.
  if (run.approval === "required") return run.state === "completed" ? 3 : 0;
  if (run.state === "queued") return 1;
  if (run.state === "running") return 2;
  return 3;
}

/** Whether the step to `level` is announced or only claimed. */
function announces(run: PendingRun, level: number): boolean {
  // Rejected (or cancelled while waiting for approval): it never ran, so it announces nothing.
  if (run.approval === "required" || run.approval === "rejected") return false;
  // A run made completed, never started (an invalid workflow file), has no workflow to name.
  if (run.state === "completed" && run.started_at === null && run.error !== null) return false;
  return level >= 1;
}

function headBranchOf(run: PendingRun): string | null {
  const pr = run.payload.pull_request as { head?: { ref?: unknown } } | undefined;
  if (typeof pr?.head?.ref === "string" && pr.head.ref !== "") return pr.head.ref;
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(run.ref);
  return m?.[2] ?? null;
}

/** github.event.workflow_run: GitHub's fields that Airlock has, for the triggering run. */
function describeRun(
  config: CoreConfig,
  repo: RepoRow,
  run: PendingRun,
  type: WorkflowRunType,
  headBranch: string | null,
): Record<string, unknown> {
  const id = Number(run.id);
  const pr = run.payload.pull_request as { number?: unknown } | undefined;
  const headRepo = (run.payload.pull_request as { head?: { repo?: { full_name?: unknown } } } | undefined)
    ?.head?.repo?.full_name;
  const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
  return {
    id,
    name: run.workflow_name,
    path: run.workflow_file,
    display_title: run.title,
    run_number: run.number,
    run_attempt: Number(run.attempt),
    event: run.event,
    status: type === "requested" ? "queued" : type,
    conclusion: type === "completed" ? run.conclusion : null,
    head_branch: headBranch,
    head_sha: run.commit,
    head_commit: { id: run.commit, message: run.title },
    html_url: makeLinks(config.publicUrl).run(id),
    created_at: iso(run.created_at),
    updated_at: iso(run.finished_at ?? run.started_at ?? run.created_at),
    run_started_at: iso(run.started_at),
    actor: { login: run.actor },
    triggering_actor: { login: run.actor },
    repository: { full_name: repo.name },
    head_repository: { full_name: typeof headRepo === "string" ? headRepo : repo.name },
    pull_requests: typeof pr?.number === "number" ? [{ number: pr.number }] : [],
  };
}

/**
 * How many workflow_run runs lead to this one, itself included (0 for a push, a schedule, ...):
 * each workflow_run run's payload names the run that triggered it.
 */
export async function chainDepth(db: pg.Pool, runId: number): Promise<number> {
  const { rows } = await db.query<{ depth: number }>(
    `WITH RECURSIVE chain (id, event, payload, n) AS (
       SELECT id, event, payload, 0 FROM runs WHERE id = $1
       UNION ALL
       SELECT p.id, p.event, p.payload, c.n + 1
         FROM chain c JOIN runs p
           ON c.event = 'workflow_run'
          AND jsonb_typeof(c.payload -> 'workflow_run' -> 'id') = 'number'
          AND p.id = (c.payload -> 'workflow_run' ->> 'id')::bigint
        WHERE c.n < $2
     )
     SELECT count(*) FILTER (WHERE event = 'workflow_run')::int AS depth FROM chain`,
    [runId, MAX_WORKFLOW_RUN_DEPTH + 1],
  );
  return rows[0]?.depth ?? 0;
}
