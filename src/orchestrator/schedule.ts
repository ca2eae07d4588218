// `on: schedule`: fires workflows at their cron times (UTC) on the latest commit of the repository's
// default branch, with the workflow file from there, event `schedule`, github.event.schedule = the
// cron string that fired — as GitHub does.
//
// Each tick (Loop in loops.ts; tests call tick(now) with their own clock) reads the schedules of
// every repository's default branch as the mirror last fetched it (every push, poll and fired slot
// fetches it), then, per (repository, workflow file, cron), claims the latest slot at or before
// `now` in schedule_slots (migrations/025_triggers.sql) with one statement that only moves the
// stored slot forward. Whoever moves it fires; every other process, or this one after a restart,
// finds it moved and does nothing. Consequences, all deliberate:
//   - after downtime at most ONE missed slot fires per cron: the latest one, never a burst;
//   - a cron seen for the first time records its latest past slot without firing, so adding a
//     repository or a schedule does not fire at once for a slot that passed before it existed;
//   - a slot is claimed before its run is made: if making it fails (the forge is unreachable),
//     that slot is lost and the failure logged (at most once, never twice);
//   - expressions firing more often than every 5 minutes (GitHub's minimum) and invalid ones are
//     not scheduled, with one warning per commit in the orchestrator's log.
import type pg from "pg";
import type { Logger } from "pino";
import { defaultPayload } from "../planner/index.js";
import { workflowsAt } from "../sources/index.js";
import { parseSchedule, parseWorkflowOffLoop, type CronSchedule } from "../workflow/index.js";
import type { CoreConfig } from "./config.js";
import type { RepoRow } from "./repos.js";
import { defaultHead, fullRef, mirrorFor, repoInfo, type CoreRunsService, type SourceAuth } from "./runs.js";

export interface ScheduledCron {
  file: string;
  schedule: CronSchedule;
}

export interface SchedulerDeps {
  pool: pg.Pool;
  config: CoreConfig;
  logger: Logger;
  runs: CoreRunsService;
  sourceAuth?: SourceAuth;
}

const FAILURE_BACKOFF_MS = 10 * 60_000;

/** The actor of scheduled runs (GitHub names the user who last changed the cron; we have none). */
export const SCHEDULE_ACTOR = "airlock[schedule]";

export class CronScheduler {
  /** Schedules per "repository:commit": a commit's files never change. */
  private readonly cache = new Map<string, ScheduledCron[]>();
  /** Repositories whose check failed, left alone until this time (ms) so one warning per period. */
  private readonly backoff = new Map<number, number>();

  constructor(private readonly d: SchedulerDeps) {}

  /** Fires every slot due at `now` that nobody fired yet. Returns how many runs were made. */
  async tick(now: Date): Promise<number> {
    const { rows } = await this.d.pool.query<{
      id: string;
      organization_id: string;
      name: string;
      clone_url: string;
      default_branch: string;
    }>(`SELECT id, organization_id, name, clone_url, default_branch FROM repositories ORDER BY id`);
    let made = 0;
    const live = new Set<string>();
    for (const r of rows) {
      const repo: RepoRow = {
        id: Number(r.id),
        organizationId: Number(r.organization_id),
        name: r.name,
        cloneUrl: r.clone_url,
        defaultBranch: r.default_branch,
      };
      if ((this.backoff.get(repo.id) ?? 0) > now.getTime()) continue;
      // One repository's failure (an unreachable forge) must not hold up the others.
      try {
        made += await this.repository(repo, now, live);
        this.backoff.delete(repo.id);
      } catch (err) {
        this.backoff.set(repo.id, now.getTime() + FAILURE_BACKOFF_MS);
        this.d.logger.warn(
          { err, repository: repo.name },
          "schedule check failed; tried again in 10 minutes",
        );
      }
    }
    for (const key of this.cache.keys()) if (!live.has(key)) this.cache.delete(key);
    return made;
  }

  private async repository(repo: RepoRow, now: Date, live: Set<string>): Promise<number> {
    const mirror = mirrorFor(this.d.config, repo, this.d.sourceAuth);
    let head = await mirror.resolve(fullRef(repo.defaultBranch));
    // Never fetched yet (a repository without pushes since it was added): fetch once here.
    if (head === undefined) head = await defaultHead(mirror, repo);
    const key = `${repo.id}:${head}`;
    live.add(key);
    const crons = this.cache.get(key) ?? (await this.schedulesAt(repo, head));
    this.cache.set(key, crons);
    let made = 0;
    for (const c of crons) {
      const slot = c.schedule.latestAtOrBefore(now);
      if (slot === undefined) continue;
      const claim = await claimSlot(this.d.pool, repo.id, c.file, c.schedule.cron, slot);
      if (claim !== "fire") continue;
      try {
        made += await this.fire(repo, c, slot);
      } catch (err) {
        this.d.logger.error(
          { err, repository: repo.name, workflow: c.file, cron: c.schedule.cron, slot },
          "scheduled run could not be made: this slot is skipped",
        );
      }
    }
    return made;
  }

  /** The valid schedules of the workflows at `commit`; problems are logged once per commit. */
  private async schedulesAt(repo: RepoRow, commit: string): Promise<ScheduledCron[]> {
    const mirror = mirrorFor(this.d.config, repo, this.d.sourceAuth);
    const found = await workflowsAt(mirror, commit);
    const out: ScheduledCron[] = [];
    for (const f of found.files) {
      if (!/\bschedule\b/.test(f.content)) continue;
      const parsed = await parseWorkflowOffLoop(f.path, f.content);
      for (const cron of parsed.workflow?.on.schedule?.cron ?? []) {
        const p = parseSchedule(cron);
        if ("problem" in p) {
          this.d.logger.warn(
            { repository: repo.name, workflow: f.path, commit, cron },
            `${f.path}: ${p.problem}`,
          );
          continue;
        }
        out.push({ file: f.path, schedule: p.schedule });
      }
    }
    return out;
  }

  /** The run of one slot, on the default branch's latest commit (fetched now). */
  private async fire(repo: RepoRow, c: ScheduledCron, slot: Date): Promise<number> {
    const mirror = mirrorFor(this.d.config, repo, this.d.sourceAuth);
    const commit = await defaultHead(mirror, repo);
    // The workflow as it is now: a schedule removed since the mirror was read fires nothing.
    const latest = await this.schedulesAt(repo, commit);
    if (!latest.some((l) => l.file === c.file && l.schedule.cron === c.schedule.cron)) return 0;
    const ref = fullRef(repo.defaultBranch);
    const info = repoInfo(repo, commit, ref, undefined, SCHEDULE_ACTOR, "");
    const runs = await this.d.runs.create(repo, {
      event: "schedule",
      ref,
      commit,
      payload: {
        ...defaultPayload("schedule", info, repo.name, {}),
        schedule: c.schedule.cron,
        workflow: c.file,
      },
      inputs: {},
      actor: SCHEDULE_ACTOR,
      title: `Scheduled ${c.schedule.cron} (${slot.toISOString()})`,
      trigger: "schedule",
      onlyWorkflow: c.file,
    });
    this.d.logger.info(
      { repository: repo.name, workflow: c.file, cron: c.schedule.cron, slot, runs: runs.map((r) => r.id) },
      "scheduled run",
    );
    return runs.length;
  }
}

/**
 * Moves the stored slot of (repository, file, cron) forward to `slot`, atomically. "fire": this
 * caller moved it (fire the run); "first": the cron was not known (recorded, not fired); "taken":
 * it was already at or past `slot` (fired by someone else, or before a restart).
 */
export async function claimSlot(
  db: pg.Pool,
  repositoryId: number,
  file: string,
  cron: string,
  slot: Date,
): Promise<"fire" | "first" | "taken"> {
  // xmax = 0 only on a row this statement inserted (not on one it updated).
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO schedule_slots (repository_id, workflow_file, cron, slot) VALUES ($1, $2, $3, $4)
     ON CONFLICT (repository_id, workflow_file, cron)
       DO UPDATE SET slot = EXCLUDED.slot, updated_at = now() WHERE schedule_slots.slot < EXCLUDED.slot
     RETURNING (xmax = 0) AS inserted`,
    [repositoryId, file, cron, slot],
  );
  const r = rows[0];
  if (!r) return "taken";
  return r.inserted ? "first" : "fire";
}
