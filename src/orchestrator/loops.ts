// Background loops of the orchestrator: lease expiry (retry or lose jobs whose agent vanished),
// polling of repositories that cannot send webhooks, `on: schedule` (schedule.ts) and
// `workflow_run` announcements (workflow-run.ts). Each loop is stoppable and never overlaps itself.
import type pg from "pg";
import type { Logger } from "pino";
import { expireLeases } from "../queue/index.js";
import { pollRepository } from "../sources/index.js";
import type { CoreConfig } from "./config.js";
import { mirrorFor, type SourceAuth } from "./runs.js";
import type { CronScheduler } from "./schedule.js";
import type { WorkflowRunEvents } from "./workflow-run.js";
import type { RunsService } from "./types.js";

export class Loop {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly everyMs: number,
    private readonly tick: () => Promise<void>,
    private readonly logger: Logger,
    private readonly name: string,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.everyMs);
  }

  kick(): void {
    this.busy = this.busy.then(() =>
      this.tick().catch((err: unknown) => this.logger.error({ err, loop: this.name }, "loop tick failed")),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.busy;
  }
}

export function leaseLoop(
  d: { pool: pg.Pool; config: CoreConfig; logger: Logger },
  on: { requeued(ids: number[]): void; ended(ids: number[]): void },
): Loop {
  const every = Math.max(100, Math.min(1000, Math.floor(d.config.leaseMs / 4)));
  return new Loop(
    every,
    async () => {
      const r = await expireLeases(d.pool);
      if (r.requeued.length > 0) {
        d.logger.warn({ jobs: r.requeued }, "leases expired: jobs requeued");
        on.requeued(r.requeued);
      }
      const ended = [...r.lost, ...r.cancelled];
      if (ended.length > 0) on.ended(ended);
    },
    d.logger,
    "leases",
  );
}

interface PolledRepo {
  id: string;
  name: string;
  clone_url: string;
  default_branch: string;
  last_seen_commit: string | null;
}

export function pollLoop(d: {
  pool: pg.Pool;
  config: CoreConfig;
  logger: Logger;
  runs: RunsService;
  sourceAuth?: SourceAuth;
}): Loop {
  const pollOne = async (r: PolledRepo): Promise<void> => {
    const mirror = mirrorFor(d.config, { id: Number(r.id), cloneUrl: r.clone_url }, d.sourceAuth);
    const seen = await pollRepository(mirror, r.default_branch, r.last_seen_commit ?? undefined);
    if (!seen) return;
    const ref = `refs/heads/${r.default_branch}`;
    const [owner = "", name = ""] = r.name.split("/");
    // A polled run is titled by its commit, as a pushed one is (the message's first line).
    const message = (await mirror.commitMessage(seen.commit).catch(() => undefined)) ?? "";
    const subject = message.split("\n")[0]?.trim() ?? "";
    await d.runs.handleSourceEvent(
      Number(r.id),
      {
        provider: "github",
        deliveryId: `poll-${r.id}-${seen.commit}`,
        event: "push",
        ref,
        commit: seen.commit,
        ...(r.last_seen_commit ? { before: r.last_seen_commit } : {}),
        ...(seen.changedFiles ? { changedFiles: seen.changedFiles } : {}),
        repository: { fullName: r.name, cloneUrls: [r.clone_url] },
        actor: "poller",
        title: subject !== "" ? subject : `Poll of ${r.default_branch}`,
        payload: {
          ref,
          before: r.last_seen_commit ?? "0".repeat(40),
          after: seen.commit,
          head_commit: { id: seen.commit, message },
          repository: { full_name: r.name, name, owner: { login: owner }, clone_url: r.clone_url },
        },
      },
      "poll",
    );
    // Recorded only once the run exists: a failure above leaves the commit to the next poll.
    await d.pool.query(`UPDATE repositories SET last_seen_commit = $2 WHERE id = $1`, [r.id, seen.commit]);
  };
  return new Loop(
    2000,
    async () => {
      const { rows } = await d.pool.query<PolledRepo>(
        `UPDATE repositories SET last_polled_at = now()
          WHERE poll_interval_seconds IS NOT NULL
            AND (last_polled_at IS NULL OR last_polled_at < now() - make_interval(secs => poll_interval_seconds))
          RETURNING id, name, clone_url, default_branch, last_seen_commit`,
      );
      for (const r of rows) {
        // One repository's failure must not hold up the others; it is tried again next interval.
        try {
          await pollOne(r);
        } catch (err) {
          d.logger.warn({ err, repository: r.name }, "poll failed");
        }
      }
    },
    d.logger,
    "poll",
  );
}

/** How often the scheduler looks for due cron slots (GitHub itself runs schedules late, often minutes). */
export const SCHEDULE_TICK_MS = 20_000;

/** `on: schedule`: `clock` is the time slots are compared with (injectable for tests). */
export function scheduleLoop(d: { logger: Logger }, scheduler: CronScheduler, clock: () => Date): Loop {
  return new Loop(
    SCHEDULE_TICK_MS,
    async () => {
      await scheduler.tick(clock());
    },
    d.logger,
    "schedule",
  );
}

export function workflowRunLoop(d: { logger: Logger }, events: WorkflowRunEvents): Loop {
  return new Loop(
    2000,
    async () => {
      await events.tick();
    },
    d.logger,
    "workflow_run",
  );
}
