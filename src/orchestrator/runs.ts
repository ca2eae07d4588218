// RunsService: turns a trigger (manual, webhook, poll) into runs — one per workflow that the event
// triggers at that commit, as on GitHub — and hands each run to its driver.
import type pg from "pg";
import { AirlockError, ErrorCode, formatProblem } from "../errors/index.js";
import { stripUrlsDeep, stripUserinfo, type GitAuth } from "../git/index.js";
import { approveUntrusted, rejectUntrusted } from "./approvals.js";
import { approvalFor, trustOf, type Approval, type Trust, type TrustFacts, type TrustTier } from "./trust.js";
import { defaultPayload, eventRef } from "../planner/index.js";
import type { SourceEvent } from "../sources/index.js";
import { openMirror, workflowsAt, type RepoMirror } from "../sources/index.js";
import {
  matchesTrigger,
  MAX_FILE_BYTES,
  parseWorkflowOffLoop,
  resolveDispatch,
  type Workflow,
} from "../workflow/index.js";
import type { Problem } from "../errors/index.js";
import type { CoreConfig } from "./config.js";
import { getRepo, type RepoRow } from "./repos.js";
import { loadRun } from "./run-row.js";
import { startAttempt } from "./rerun.js";
import { jobGraph } from "./run-graph.js";
import { inTransaction } from "./catalog/index.js";
import type { DispatchRequest, RerunOptions, RunSummary, RunsService, TriggerRequest } from "./types.js";
import { makeLinks } from "./views/index.js";
import { join } from "node:path";

export interface NewRunFacts {
  event: string;
  ref: string;
  commit: string;
  before?: string;
  action?: string;
  baseRef?: string;
  changedFiles?: string[];
  payload: Record<string, unknown>;
  inputs: Record<string, string>;
  actor: string;
  title: string;
  trigger: RunTrigger;
  /** The Airlock user who triggered this run attempt (manual runs). */
  triggeredByUserId?: number | null;
  /** A ref that holds the commit when branches do not (pull request heads). */
  fetchRef?: string;
  /** A pull request's repositories and author, for its trust tier (src/orchestrator/trust.ts). */
  pullRequest?: TrustFacts["pullRequest"];
  /** Only this workflow file (a schedule fires its own workflow, not every one with a schedule). */
  onlyWorkflow?: string;
  /** workflow_run: the name of the workflow whose run this is about (the `workflows:` filter). */
  aboutWorkflow?: string;
}

/** What started a run (runs.trigger). */
export type RunTrigger = TrustFacts["trigger"];

/** The core's own entry points beside the HTTP-facing RunsService (the scheduler, workflow_run). */
export interface CoreRunsService extends RunsService {
  /** Runs of the workflows `facts` triggers at `facts.commit`; never throws for "none matched". */
  create(repo: RepoRow, facts: NewRunFacts): Promise<RunSummary[]>;
}

export interface RunsDeps {
  pool: pg.Pool;
  config: CoreConfig;
  /** Starts driving a run (its workflow already parsed). */
  drive(runId: number, workflow: Workflow): void;
  /** Starts driving a run whose workflow is read from its commit (an approved run). */
  driveStored(runId: number): void;
  cancel(runId: number): Promise<void>;
  /** RunsService.gatesChanged. */
  gatesChanged(ended: number[]): void;
  /** RunsService.cancelJobs. */
  cancelJobs(jobIds: readonly number[]): Promise<void>;
  /** RunsService.placementChanged. */
  placementChanged(): void;
  sourceAuth?: SourceAuth;
}

/** A repository's sealed clone credential, opened for one fetch (src/secrets gitAuthOf). */
export type SourceAuth = (repo: { id: number; cloneUrl: string }) => Promise<GitAuth | undefined>;

export function mirrorFor(
  config: CoreConfig,
  repo: { id: number; cloneUrl: string },
  auth?: SourceAuth,
): RepoMirror {
  return openMirror({
    cacheDir: join(config.dataDir, "mirrors"),
    cloneUrl: repo.cloneUrl,
    ...(auth ? { auth: () => auth(repo) } : {}),
  });
}

export function createRunsService(d: RunsDeps): CoreRunsService {
  const create = async (repo: RepoRow, facts: NewRunFacts): Promise<RunSummary[]> => {
    const mirror = mirrorFor(d.config, repo, d.sourceAuth);
    if (!(await mirror.hasCommit(facts.commit))) await mirror.fetch();
    if (!(await mirror.hasCommit(facts.commit)) && facts.fetchRef) await mirror.fetchRef(facts.fetchRef);
    if (!(await mirror.hasCommit(facts.commit))) {
      throw new AirlockError(
        ErrorCode.NOT_FOUND,
        `commit ${facts.commit} is not in ${stripUserinfo(repo.cloneUrl)}`,
      );
    }
    const found = await workflowsAt(mirror, facts.commit);
    const problems: Problem[] = [...found.problems];
    const workflows: Workflow[] = [];
    for (const f of found.files) {
      const parsed = await parseWorkflowOffLoop(f.path, f.content);
      problems.push(...parsed.problems);
      if (parsed.workflow) workflows.push(parsed.workflow);
    }
    const changedFiles =
      facts.changedFiles ??
      (facts.event === "push" ? await mirror.changedFiles(facts.before, facts.commit) : undefined);
    const matched = workflows.filter(
      (w) =>
        (facts.onlyWorkflow === undefined || w.file === facts.onlyWorkflow) &&
        matchesTrigger(w, {
          name: facts.event,
          ...(facts.action ? { action: facts.action } : {}),
          ref: facts.baseRef ?? facts.ref,
          ...(changedFiles ? { changedFiles } : {}),
          ...(facts.aboutWorkflow !== undefined ? { workflow: facts.aboutWorkflow } : {}),
        }),
    );
    // workflow_dispatch: the same resolution as `airlock run` (the payload's inputs, then the given
    // ones); each run's github.event.inputs holds its workflow's inputs as text, as on GitHub.
    const eventInputs = new Map<Workflow, Record<string, string>>();
    if (facts.event === "workflow_dispatch") {
      for (const w of matched) {
        const r = resolveDispatch(w, facts.inputs, facts.payload.inputs);
        if (r.problems.length > 0)
          throw new AirlockError(ErrorCode.USAGE, `${w.file}: ${r.problems.join("; ")}`);
        eventInputs.set(w, r.eventInputs);
      }
    }
    const trust: Trust = trustOf({
      event: facts.event,
      trigger: facts.trigger,
      actor: facts.actor,
      commit: facts.commit,
      ...(facts.pullRequest ? { pullRequest: facts.pullRequest } : {}),
    });
    const approval = await approvalFor(d.pool, repo, { ...facts, trigger: facts.trigger }, trust);
    const summaries: RunSummary[] = [];
    // A workflow file that does not parse gets a failed run of its own, naming every problem (GitHub
    // shows such runs too), so a push never fails silently.
    // Events that read the default branch's workflows on their own (schedule, workflow_run) report
    // a broken file through the push that brought it, not once more per event.
    const invalidFiles =
      facts.onlyWorkflow !== undefined || facts.trigger === "workflow_run"
        ? []
        : [...new Set(problems.map((p) => p.file))];
    const client = await d.pool.connect();
    const started: Array<{ id: number; workflow: Workflow }> = [];
    try {
      await client.query("BEGIN");
      for (const w of matched) {
        const given = eventInputs.get(w);
        const runFacts = given ? { ...facts, payload: { ...facts.payload, inputs: given } } : facts;
        const s = await insertRun(client, repo, runFacts, w.file, w.name, null, trust.tier, approval, w);
        summaries.push(summary(d.config, s));
        // A run waiting for approval is driven once a maintainer approves its commit.
        if (approval.approval !== "required") started.push({ id: s.id, workflow: w });
      }
      for (const file of invalidFiles) {
        const text = problems
          .filter((p) => p.file === file)
          .map(formatProblem)
          .join("\n");
        const s = await insertRun(client, repo, facts, file, file, text, trust.tier, {
          approval: null,
          reason: null,
        });
        summaries.push(summary(d.config, s));
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
    for (const s of started) d.drive(s.id, s.workflow);
    return summaries;
  };

  const latestOf = async (repo: RepoRow, ref: string): Promise<string> => {
    const mirror = mirrorFor(d.config, repo, d.sourceAuth);
    await mirror.fetch();
    const commit = await mirror.resolve(ref);
    if (commit === undefined) throw new AirlockError(ErrorCode.NOT_FOUND, `no ref ${ref} in ${repo.name}`);
    return commit;
  };

  return {
    create,
    async trigger(repositoryId: number, req: TriggerRequest): Promise<RunSummary[]> {
      const repo = await getRepo(d.pool, repositoryId);
      const event = req.event ?? "push";
      const ref = fullRef(req.ref ?? repo.defaultBranch);
      const mirror = mirrorFor(d.config, repo, d.sourceAuth);
      let commit = req.commit;
      if (commit === undefined) {
        await mirror.fetch();
        commit = await mirror.resolve(ref);
        if (commit === undefined)
          throw new AirlockError(ErrorCode.NOT_FOUND, `no ref ${ref} in ${repo.name}`);
      } else {
        // A run says which ref it builds, and environments' branch rules and identity tokens trust
        // that: the commit must be on the ref (its tip or an ancestor), not any commit at all.
        await checkCommitOnRef(mirror, repo.name, ref, commit);
      }
      // head_commit.timestamp of the payload: the committer time, as GitHub's push payload has it.
      const time = await mirror.commitTime(commit).catch(() => undefined);
      const info = repoInfo(repo, commit, ref, undefined, req.actor ?? "airlock", "", time?.iso);
      const inputs = req.inputs ?? {};
      const payload = defaultPayload(event, info, repo.name, inputs);
      return create(repo, {
        event,
        ref: eventRef(event, payload, info),
        commit,
        payload,
        inputs,
        actor: req.actor ?? "airlock",
        title: `Manual ${event} of ${ref.replace(/^refs\/(heads|tags)\//, "")}`,
        trigger: "manual",
        triggeredByUserId: req.triggeredByUserId ?? null,
        ...(event === "pull_request" ? { baseRef: ref } : {}),
      });
    },

    async handleSourceEvent(
      repositoryId: number,
      ev: SourceEvent,
      trigger: "webhook" | "poll",
    ): Promise<RunSummary[]> {
      const repo = await getRepo(d.pool, repositoryId);
      // repository_dispatch names no commit: it runs the latest of the branch it names (GitHub's
      // default branch), fetched now.
      const commit = ev.event === "repository_dispatch" && ev.ref ? await latestOf(repo, ev.ref) : ev.commit;
      if (!commit || !ev.ref) return [];
      const own = await create(repo, {
        event: ev.event,
        ref: ev.ref,
        commit,
        ...(ev.before ? { before: ev.before } : {}),
        ...(ev.action ? { action: ev.action } : {}),
        ...(ev.baseRef ? { baseRef: ev.baseRef } : {}),
        ...(ev.changedFiles ? { changedFiles: ev.changedFiles } : {}),
        ...(ev.pullRequest?.fetchRef || ev.fetchRef
          ? { fetchRef: ev.pullRequest?.fetchRef ?? ev.fetchRef }
          : {}),
        payload: ev.payload,
        inputs: {},
        actor: ev.actor ?? "",
        title: ev.title ?? "",
        trigger,
        ...(ev.pullRequest
          ? {
              pullRequest: {
                baseRepository: ev.repository.fullName,
                ...(ev.pullRequest.headRepository ? { headRepository: ev.pullRequest.headRepository } : {}),
                ...(ev.pullRequest.authorAssociation
                  ? { authorAssociation: ev.pullRequest.authorAssociation }
                  : {}),
              },
            }
          : {}),
      });
      // pull_request_target: the workflows of the BASE branch, at its head, with the base's trust —
      // never a workflow the pull request brought (GitHub's rule for privileged pull request runs).
      if (ev.event !== "pull_request" || !ev.baseRef) return own;
      const mirror = mirrorFor(d.config, repo, d.sourceAuth);
      const base = await mirror.resolve(ev.baseRef);
      if (base === undefined) return own;
      const target = await create(repo, {
        event: "pull_request_target",
        ref: ev.baseRef,
        commit: base,
        ...(ev.action ? { action: ev.action } : {}),
        baseRef: ev.baseRef,
        payload: ev.payload,
        inputs: {},
        actor: ev.actor ?? "",
        title: ev.title ?? "",
        trigger,
      });
      return [...own, ...target];
    },

    async dispatch(repositoryId: number, req: DispatchRequest): Promise<RunSummary[]> {
      const repo = await getRepo(d.pool, repositoryId);
      const ref = fullRef(repo.defaultBranch);
      const commit = await defaultHead(mirrorFor(d.config, repo, d.sourceAuth), repo);
      const actor = req.actor ?? "airlock";
      const info = repoInfo(repo, commit, ref, undefined, actor, "");
      const base = defaultPayload("repository_dispatch", info, repo.name, {});
      return create(repo, {
        event: "repository_dispatch",
        action: req.eventType,
        ref,
        commit,
        // GitHub's repository_dispatch payload: the event type as `action`, the default branch.
        payload: {
          ...base,
          action: req.eventType,
          branch: repo.defaultBranch,
          client_payload: req.clientPayload ?? {},
          sender: { login: actor },
        },
        inputs: {},
        actor,
        title: `Repository dispatch ${req.eventType}`,
        trigger: "manual",
        triggeredByUserId: req.triggeredByUserId ?? null,
      });
    },

    cancel: (runId) => d.cancel(runId),
    async approve(runId, by) {
      const started = await approveUntrusted(d.pool, runId, by);
      for (const id of started) d.driveStored(id);
      return started;
    },
    reject: (runId, by) => rejectUntrusted(d.pool, runId, by),
    gatesChanged: (ended) => d.gatesChanged(ended),
    cancelJobs: (jobIds) => d.cancelJobs(jobIds),
    placementChanged: () => d.placementChanged(),

    async rerun(runId: number, req: RerunOptions = {}): Promise<RunSummary> {
      const r = await loadRun(d.pool, runId);
      if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `no run ${runId}`);
      // Refused before any fetch: the common mistake answers at once, and changes nothing.
      if (r.state !== "completed")
        throw new AirlockError(
          ErrorCode.CONFLICT,
          `run ${runId} is ${r.state}: only a finished run can be re-run (cancel it first)`,
        );
      const repo = await getRepo(d.pool, r.repositoryId);
      const mirror = mirrorFor(d.config, repo, d.sourceAuth);
      if (!(await mirror.hasCommit(r.commit))) await mirror.fetch();
      const content = await mirror.readFile(r.commit, r.workflowFile, { maxBytes: MAX_FILE_BYTES });
      const parsed = content === undefined ? undefined : await parseWorkflowOffLoop(r.workflowFile, content);
      if (!parsed?.workflow) {
        throw new AirlockError(
          ErrorCode.WORKFLOW_INVALID,
          `${r.workflowFile} cannot be run again at ${r.commit}`,
        );
      }
      const workflow = parsed.workflow;
      // The run keeps its trust tier; an untrusted one waits for approval again unless its commit is.
      const trust: Trust = { tier: r.trustTier, why: `re-run of run ${runId}` };
      const approval = await approvalFor(d.pool, repo, { ...r, trigger: "rerun" }, trust);
      if (req.failedOnly === true && req.job !== undefined)
        throw new AirlockError(ErrorCode.USAGE, "re-run the failed jobs or one job, not both");
      const mode = req.job !== undefined ? "job" : req.failedOnly === true ? "failed" : "all";
      const attempt = await inTransaction(d.pool, (c) =>
        startAttempt(
          c,
          runId,
          workflow,
          {
            mode,
            ...(req.job !== undefined ? { job: req.job } : {}),
            actor: req.actor ?? r.actor,
            byUserId: req.byUserId ?? null,
          },
          approval,
        ),
      );
      if (approval.approval !== "required") d.drive(runId, workflow);
      return {
        ...summary(d.config, {
          id: r.id,
          repositoryId: r.repositoryId,
          number: r.number,
          event: r.event,
          ref: r.ref,
          commit: r.commit,
          state: "queued",
          conclusion: null,
        }),
        attempt,
      };
    },
  };
}

interface InsertedRun {
  id: number;
  repositoryId: number;
  number: number;
  event: string;
  ref: string;
  commit: string;
  state: RunSummary["state"];
  conclusion: RunSummary["conclusion"];
}

async function insertRun(
  db: pg.Pool | pg.PoolClient,
  repo: RepoRow,
  f: NewRunFacts,
  workflowFile: string,
  workflowName: string,
  invalid: string | null,
  tier: TrustTier,
  approval: Approval,
  workflow?: Workflow,
): Promise<InsertedRun> {
  const { rows } = await db.query<{ id: string; number: number }>(
    `WITH n AS (
       UPDATE repositories SET next_run_number = next_run_number + 1 WHERE id = $1 RETURNING next_run_number - 1 AS number
     ), r AS (
       INSERT INTO runs (repository_id, number, event, ref, commit, trigger, actor, title, payload, inputs,
                         workflow_file, workflow_name, rerun_of, trust_tier, approval, approval_reason,
                         triggered_by_user_id, graph, state, conclusion, error, finished_at)
       SELECT $1, n.number, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16, $17, $18,
              CASE WHEN $13::text IS NULL THEN 'queued' ELSE 'completed' END,
              CASE WHEN $13::text IS NULL THEN NULL ELSE 'failure' END,
              $13::text,
              CASE WHEN $13::text IS NULL THEN NULL ELSE now() END
         FROM n
       RETURNING id, number, actor, triggered_by_user_id, created_at
     ), a AS (
       -- Its first attempt, triggered by whoever triggered the run.
       INSERT INTO run_attempts (run_id, attempt, triggering_actor, triggered_by_user_id, created_at)
       SELECT id, 1, actor, triggered_by_user_id, created_at FROM r
     )
     SELECT id, number FROM r`,
    [
      repo.id,
      f.event,
      f.ref,
      f.commit,
      f.trigger,
      f.actor,
      f.title,
      // A job sees this payload (github.event): no URL in it may carry a password, whatever sent it.
      JSON.stringify(stripUrlsDeep(f.payload)),
      JSON.stringify(f.inputs),
      workflowFile,
      workflowName,
      null,
      invalid,
      tier,
      invalid === null ? approval.approval : null,
      invalid === null ? approval.reason : null,
      f.triggeredByUserId ?? null,
      workflow === undefined ? null : JSON.stringify(jobGraph(workflow)),
    ],
  );
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `no repository ${repo.id}`);
  return {
    id: Number(r.id),
    repositoryId: repo.id,
    number: r.number,
    event: f.event,
    ref: f.ref,
    commit: f.commit,
    state: invalid === null ? "queued" : "completed",
    conclusion: invalid === null ? null : "failure",
  };
}

function summary(config: CoreConfig, r: InsertedRun): RunSummary {
  return { ...r, attempt: 1, url: makeLinks(config.publicUrl).run(r.id) };
}

export function fullRef(ref: string): string {
  return ref.startsWith("refs/") ? ref : `refs/heads/${ref}`;
}

/** The repository facts the planner's github context is built from. */
export function repoInfo(
  repo: RepoRow,
  commit: string,
  ref: string,
  before: string | undefined,
  actor: string,
  message: string,
  /** The commit's committer time, ISO 8601 (RepoMirror.commitTime); "" when unknown. */
  timestamp = "",
): import("../git/index.js").RepoInfo {
  // The clone URL as a job may see it (github.repositoryUrl, the workspace source): no userinfo.
  const url = stripUserinfo(repo.cloneUrl);
  return {
    root: url,
    commit,
    ref: ref.startsWith("refs/heads/") ? ref : undefined,
    parent: before,
    message,
    authorName: actor,
    authorEmail: "",
    timestamp,
    originUrl: url,
  };
}

/** The latest commit of the repository's default branch, fetched now. */
export async function defaultHead(mirror: RepoMirror, repo: RepoRow): Promise<string> {
  await mirror.fetch();
  const commit = await mirror.resolve(fullRef(repo.defaultBranch));
  if (commit === undefined)
    throw new AirlockError(ErrorCode.NOT_FOUND, `no branch ${repo.defaultBranch} in ${repo.name}`);
  return commit;
}

async function checkCommitOnRef(
  mirror: RepoMirror,
  repo: string,
  ref: string,
  commit: string,
): Promise<void> {
  if (!(await mirror.hasCommit(commit))) await mirror.fetch();
  const tip = await mirror.resolve(ref);
  if (tip === undefined) throw new AirlockError(ErrorCode.NOT_FOUND, `no ref ${ref} in ${repo}`);
  const full = await mirror.resolve(commit);
  if (full === undefined) throw new AirlockError(ErrorCode.NOT_FOUND, `commit ${commit} is not in ${repo}`);
  if (full !== tip && (await mirror.mergeBase(full, tip)) !== full)
    throw new AirlockError(
      ErrorCode.USAGE,
      `commit ${commit} is not on ${ref}: give the ref the commit is on (branch rules and identity tokens trust it)`,
    );
}
