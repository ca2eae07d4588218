// Drives runs: one in-memory driver per active run executes the run's job DAG with the planner,
// whose executor puts job instances into the queue and waits for them. Driving is a replay: after
// an orchestrator restart, `recover()` drives every unfinished run again and the jobs that already
// exist are found by key instead of being created twice.
import { createRunKey, secretsForRun, varsForRun, type Kms } from "../secrets/index.js";
import { sealJobSecrets, untrustedJob } from "./job-secrets.js";
import { setMaxListeners } from "node:events";
import type pg from "pg";
import type { Logger } from "pino";
import {
  executeRun,
  workflowConcurrency,
  type Concurrency,
  type InstanceRequest,
  type RunReporter,
} from "../planner/index.js";
import { recordFinishedJob } from "../queue/index.js";
import { createActionPinner, fetchRemoteFile, parseUses } from "../actions/index.js";
import { MAX_FILE_BYTES, resolveDispatch, parseWorkflowOffLoop, type Workflow } from "../workflow/index.js";
import { ErrorCode, formatProblem, isAirlockError } from "../errors/index.js";
import { join } from "node:path";
import type { CoreConfig } from "./config.js";
import { getRepositoryForge } from "./catalog/index.js";
import { getRepo } from "./repos.js";
import { loadRun } from "./run-row.js";
import { mirrorFor, repoInfo, type SourceAuth } from "./runs.js";
import { createQueueExecutor, type JobSignals } from "./queue-executor.js";
import { environmentGate, environmentPrepare } from "./environments.js";
import {
  joinGroup,
  memberState,
  releaseMembers,
  type GroupEffects,
  type Joined,
} from "./concurrency/index.js";

export interface DriverDeps {
  pool: pg.Pool;
  /** Opens the run's secrets and seals them under the run's key for its jobs. */
  kms: Kms;
  config: CoreConfig;
  logger: Logger;
  signals: JobSignals;
  wakeDispatcher(): void;
  cancelJob(jobId: number): Promise<void>;
  /** Cancels the run's jobs (waiting ones complete at once, running ones are stopped on their node). */
  cancelRunJobs(runId: number): Promise<void>;
  /** What joins and releases of `concurrency:` groups imply for other runs and jobs. */
  groups: GroupEffects;
  sourceAuth?: SourceAuth;
}

export class RunDrivers {
  private readonly active = new Map<
    number,
    { shutdown: AbortController; cancel: AbortController; done: Promise<void>; next?: boolean }
  >();
  private stopping = false;
  /** Runs waiting for their workflow's concurrency group: woken when it may be theirs. */
  private readonly groupWaiters = new Map<number, () => void>();

  constructor(private readonly d: DriverDeps) {}

  /** Starts driving a run unless it is already driven. */
  drive(runId: number, workflow?: Workflow): void {
    if (this.stopping) return;
    const current = this.active.get(runId);
    if (current) {
      // A re-run right after the run completed may come while the last attempt's driver winds
      // down: drive the new attempt once it is gone (a run already driven is skipped by driveRun).
      if (!current.next) {
        current.next = true;
        void current.done.then(() => this.drive(runId, workflow));
      }
      return;
    }
    const shutdown = new AbortController();
    const cancel = new AbortController();
    // Every job of the run waits on them: many listeners are expected.
    setMaxListeners(0, shutdown.signal, cancel.signal);
    const done = this.driveRun(runId, workflow, shutdown.signal, cancel)
      .catch(async (err: unknown) => {
        this.d.logger.error({ err, runId }, "run driver failed");
        if (shutdown.signal.aborted) return;
        // Nobody drives this run any more: end it and its jobs, rather than leave it running (and
        // its queued jobs dispatchable) until a restart that may fail the same way.
        const why = `the run could not be driven: ${err instanceof Error ? err.message : String(err)}`;
        await this.abandon(runId, why).catch((e: unknown) =>
          this.d.logger.error({ err: e, runId }, "failed run could not be ended"),
        );
      })
      .finally(() => this.active.delete(runId));
    this.active.set(runId, { shutdown, cancel, done });
  }

  /** The run was cancelled: pending jobs of its DAG are cancelled instead of queued. */
  abort(runId: number): void {
    this.active.get(runId)?.cancel.abort();
  }

  /** The run's concurrency group may be its own now (it was promoted): look again. */
  wakeRun(runId: number): void {
    this.groupWaiters.get(runId)?.();
  }

  /** Drives every run that is not completed (after a restart). */
  async recover(): Promise<number> {
    const { rows } = await this.d.pool.query<{ id: string }>(
      `SELECT id FROM runs WHERE state <> 'completed' AND (approval IS NULL OR approval = 'approved') ORDER BY id`,
    );
    for (const r of rows) this.drive(Number(r.id));
    return rows.length;
  }

  /** Stops driving (shutdown): runs stay as they are in the database, to be recovered later. */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.active.values()];
    for (const a of all) a.shutdown.abort(new ShutdownSignal());
    await Promise.allSettled(all.map((a) => a.done));
  }

  private async abandon(runId: number, why: string): Promise<void> {
    await this.d.cancelRunJobs(runId);
    await this.finish(runId, "failure", why);
  }

  /** Ends the run and leaves its concurrency groups (which may start the next run or job). */
  private async finish(
    runId: number,
    conclusion: "success" | "failure" | "cancelled",
    error: string | null,
  ): Promise<void> {
    await finishRun(this.d.pool, runId, conclusion, error);
    this.d.groups.promoted(await releaseMembers(this.d.pool, { runId }));
  }

  /**
   * Joins the workflow's concurrency group and waits until the run holds it: true then; false
   * when the run was cancelled or superseded while pending. Also after a restart: the membership
   * is in the database, the join finds it.
   */
  private async holdGroup(
    runId: number,
    repositoryId: number,
    c: Concurrency,
    cancel: AbortSignal,
    shutdown: AbortSignal,
  ): Promise<boolean> {
    const client = await this.d.pool.connect();
    let joined: Joined;
    try {
      await client.query("BEGIN");
      joined = await joinGroup(client, { repositoryId, runId, jobId: null, ...c });
      await client.query(`UPDATE runs SET wait_reason = $2 WHERE id = $1`, [
        runId,
        joined.waitReason ?? null,
      ]);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await this.d.groups.cancel(joined.cancel);
    const stop = Promise.race([aborted(cancel), aborted(shutdown)]);
    try {
      for (;;) {
        // Shut down: the run stays as it is in the database, recovered (and waiting again) later.
        if (shutdown.aborted) throw shutdown.reason;
        const woken = new Promise<void>((resolve) => this.groupWaiters.set(runId, resolve));
        const state = await memberState(this.d.pool, { runId, jobId: null });
        if (shutdown.aborted) throw shutdown.reason;
        if (state === "running") return true;
        if (state !== "pending" || cancel.aborted) return false;
        // Woken in this process by the release that promotes us; the timer is the safety net for a
        // release made by another orchestrator process.
        let timer: NodeJS.Timeout | undefined;
        const later = new Promise<void>((resolve) => (timer = setTimeout(resolve, GROUP_RECHECK_MS)));
        await Promise.race([woken, stop, later]);
        clearTimeout(timer);
      }
    } finally {
      this.groupWaiters.delete(runId);
    }
  }

  private async driveRun(
    runId: number,
    given: Workflow | undefined,
    shutdown: AbortSignal,
    cancel: AbortController,
  ): Promise<void> {
    const run = await loadRun(this.d.pool, runId);
    // Completed: nothing to drive (a second drive request for an attempt that has ended).
    if (!run || run.state === "completed") return;
    // An untrusted run waiting for a maintainer is driven once its commit is approved.
    if (run.approval === "required" || run.approval === "rejected") return;
    const untrusted = run.trustTier === "untrusted";
    const repo = await getRepo(this.d.pool, run.repositoryId);
    const mirror = mirrorFor(this.d.config, repo, this.d.sourceAuth);
    let workflow = given;
    if (!workflow) {
      if (!(await mirror.hasCommit(run.commit))) await mirror.fetch();
      let content: string | undefined;
      try {
        content = await mirror.readFile(run.commit, run.workflowFile, { maxBytes: MAX_FILE_BYTES });
      } catch (e) {
        if (!isAirlockError(e, ErrorCode.FILE_TOO_LARGE)) throw e;
        await this.abandon(runId, e.message);
        return;
      }
      const parsed =
        content === undefined ? undefined : await parseWorkflowOffLoop(run.workflowFile, content);
      if (!parsed?.workflow) {
        const why = parsed ? parsed.problems.map(formatProblem).join("\n") : `${run.workflowFile} is missing`;
        await this.abandon(runId, why);
        return;
      }
      workflow = parsed.workflow;
    }
    const inputs =
      run.event === "workflow_dispatch"
        ? resolveDispatch(workflow, run.inputs, run.payload.inputs).inputs
        : {};
    // The committer time, each job's SOURCE_DATE_EPOCH (the event payload, with its
    // head_commit.timestamp, was made at trigger). Unknown (not in the mirror, git failed): unset.
    const time = await mirror.commitTime(run.commit).catch(() => undefined);
    const info = repoInfo(repo, run.commit, run.ref, run.before, run.actor, run.title, time?.iso);
    const scope = { organizationId: repo.organizationId, repositoryId: repo.id };
    const vars = await varsForRun(this.d.pool, scope);
    const identity = {
      runId: String(runId),
      runNumber: run.number,
      runAttempt: run.attempt,
      actor: run.actor,
      triggeringActor: run.triggeringActor,
      // The forge's web address when one is known (as GitHub gives its own), else Airlock's.
      serverUrl: (await getRepositoryForge(this.d.pool, repo.id)).serverUrl ?? this.d.config.publicUrl,
    };
    // The workflow's `concurrency:` group (github, inputs, vars): the run starts once it holds it.
    let group: Concurrency | undefined;
    try {
      group = workflowConcurrency(
        {
          event: run.event,
          payload: run.payload,
          repo: info,
          fullName: repo.name,
          ref: run.ref,
          identity,
          inputs,
          vars,
        },
        workflow,
      );
    } catch (e) {
      await this.abandon(runId, `concurrency: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (run.cancelRequested) cancel.abort();
    if (group && !(await this.holdGroup(runId, repo.id, group, cancel.signal, shutdown))) {
      await this.d.cancelRunJobs(runId);
      await this.finish(runId, "cancelled", null);
      return;
    }
    await this.d.pool.query(
      `UPDATE runs SET state = 'running', started_at = coalesce(started_at, now()), wait_reason = NULL
        WHERE id = $1 AND state = 'queued'`,
      [runId],
    );
    // The clone credential, opened once per drive (undefined for a public repository).
    // Untrusted runs get none: their code is anybody's (a low-trust node checks out a public
    // repository without it; docs/security.md, "Trust tiers").
    const sourceAuth = this.d.sourceAuth && !untrusted ? this.d.sourceAuth(repo) : Promise.resolve(undefined);
    sourceAuth.catch(() => undefined); // awaited (and so reported) by the first job that needs it
    const withEnvironment = environmentPrepare(this.d.pool, this.d.kms, {
      organizationId: repo.organizationId,
      repositoryId: repo.id,
    });
    const actionOpts = {
      actionsUrl: this.d.config.actionsUrl,
      cacheDir: join(this.d.config.dataDir, "actions"),
    };
    // The control plane resolves each job's remote actions to commits (one resolution per ref for
    // the whole run); the node fetches exactly those and provenance names them (src/actions/pins.ts).
    // Local actions are read from the repository at the run's commit, for the remote ones they call.
    const pinner = createActionPinner(actionOpts, {
      readLocal: (file) => mirror.readFile(run.commit, file, { maxBytes: MAX_FILE_BYTES }),
    });
    const pinned = async (req: InstanceRequest): Promise<InstanceRequest> => ({
      ...req,
      description: { ...req.description, resolvedActions: await pinner.pin(req.description.steps) },
    });
    const executor = createQueueExecutor({
      db: this.d.pool,
      runId,
      runAttempt: run.attempt,
      maxAttempts: this.d.config.maxAttempts,
      signals: this.d.signals,
      queued: () => this.d.wakeDispatcher(),
      cancelJob: (jobId) => this.d.cancelJob(jobId),
      shutdown,
      // Environment secrets and variables added, then every secret sealed under the run's key.
      prepare: async (given) => {
        const req = await pinned(given);
        return untrusted
          ? untrustedJob(req.description)
          : sealJobSecrets(this.d.pool, this.d.kms, runId, await withEnvironment(req), await sourceAuth);
      },
      gate: environmentGate(this.d.pool, this.d.logger, (jobId) => this.d.signals.done(jobId)),
      groups: { pool: this.d.pool, repositoryId: repo.id, effects: this.d.groups },
    });
    const reporter = dbReporter(this.d.pool, runId, run.attempt, shutdown);
    // A fresh key per attempt: a re-run clears the last attempt's (src/orchestrator/rerun.ts).
    await createRunKey(this.d.pool, this.d.kms, runId);
    try {
      const report = await executeRun({
        repo: info,
        fullName: repo.name,
        identity,
        event: run.event,
        payload: run.payload,
        ref: run.ref,
        workflows: [workflow],
        inputs,
        // Configuration variables and secrets (organization < repository), GitHub's `vars` and
        // `secrets` contexts. The secrets stay in this process: each job's description gets the
        // ones it refers to sealed under the run's key (prepare above), opened only on its machine.
        // Read again after a wait for the group: the variables as they are when the run starts.
        vars: group ? await varsForRun(this.d.pool, scope) : vars,
        secrets: {
          ...(untrusted ? {} : await secretsForRun(this.d.pool, this.d.kms, scope)),
          GITHUB_TOKEN: "",
        },
        executor,
        server: true,
        reporter,
        signal: cancel.signal,
        loadCalledWorkflow: async (uses: string): Promise<Workflow> => {
          const u = parseUses(uses);
          let file: string;
          let content: string | undefined;
          if (u.kind === "local") {
            file = u.path.replace(/^\.\//, "");
            content = await mirror.readFile(run.commit, file, { maxBytes: MAX_FILE_BYTES });
          } else if (u.kind === "remote") {
            file = `${u.owner}/${u.repo}/${u.path}@${u.ref}`;
            content = (await fetchRemoteFile(actionOpts, u.owner, u.repo, u.ref, u.path)).content;
          } else throw new Error(`${uses} is not a workflow`);
          if (content === undefined) throw new Error(`${uses} does not exist at ${run.commit}`);
          const parsed = await parseWorkflowOffLoop(file, content);
          if (!parsed.workflow)
            throw new Error(`${uses} is invalid:\n${parsed.problems.map(formatProblem).join("\n")}`);
          return parsed.workflow;
        },
      });
      if (shutdown.aborted) return;
      const cancelled = (await loadRun(this.d.pool, runId))?.cancelRequested ?? false;
      await this.finish(runId, cancelled ? "cancelled" : report.conclusion, null);
    } catch (err) {
      if (shutdown.aborted) return;
      throw err;
    }
  }
}

/** How often a run waiting for its group looks again without being woken (another process's release). */
const GROUP_RECHECK_MS = 5000;

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** The abort reason of a driver stopped by shutdown (as opposed to a cancelled run). */
export class ShutdownSignal extends Error {
  constructor() {
    super("orchestrator shutting down");
  }
}

/** Jobs that never reach the queue (skipped by `if`, failed before starting) are stored as completed. */
function dbReporter(pool: pg.Pool, runId: number, runAttempt: number, shutdown: AbortSignal): RunReporter {
  return {
    jobStarted() {},
    jobEvent() {},
    jobFinished(job, report) {
      if (shutdown.aborted || report.steps.length > 0) return;
      const c = report.conclusion;
      if (c !== "skipped" && c !== "failure" && c !== "cancelled") return;
      void recordFinishedJob(pool, {
        runId,
        runAttempt,
        key: job.key,
        jobId: job.id,
        name: job.name,
        workflow: job.workflow,
        matrix: job.matrix,
        conclusion: c,
        ...(report.error === undefined ? {} : { error: report.error }),
        continueOnError: report.continueOnError,
      }).catch(() => undefined);
    },
  };
}

async function finishRun(
  pool: pg.Pool,
  runId: number,
  conclusion: "success" | "failure" | "cancelled",
  error: string | null,
): Promise<void> {
  await pool.query(
    `UPDATE runs SET state = 'completed', conclusion = $2, error = coalesce($3, error),
            started_at = coalesce(started_at, now()), finished_at = now()
      WHERE id = $1 AND state <> 'completed'`,
    [runId, conclusion, error],
  );
}
