// `on: schedule` cron strings as GitHub reads them: five POSIX fields (minute hour day month
// weekday, names like MON or JAN allowed), evaluated in UTC, day-of-month and day-of-week OR-ed
// when both are restricted (classic cron). GitHub runs a schedule at most every 5 minutes; an
// expression that would fire more often is refused here (with a reason) rather than silently
// thinned out, so its author sees why it does not run as written.
import { Cron } from "croner";

/** GitHub's shortest interval between two runs of one schedule. */
export const MIN_SCHEDULE_INTERVAL_MS = 5 * 60_000;

/** How many upcoming slots are compared to find a gap shorter than the minimum. */
const GAP_SAMPLE = 64;

// A fixed reference so that the check gives the same answer whenever it runs.
const REFERENCE = new Date("2001-01-01T00:00:00Z");

export interface CronSchedule {
  cron: string;
  /** The latest slot at or before `now`, or undefined when there is none. */
  latestAtOrBefore(now: Date): Date | undefined;
  /** The first slot after `now`. */
  nextAfter(now: Date): Date | undefined;
}

export type ScheduleParse = { schedule: CronSchedule } | { problem: string };

/** Parses one `- cron:` string; a problem says in one line why it will not be scheduled. */
export function parseSchedule(cron: string): ScheduleParse {
  const text = cron.trim();
  if (text.startsWith("@"))
    return { problem: `cron '${cron}': nicknames (@daily, ...) are not cron syntax GitHub accepts` };
  if (/[#?]|\bL\b|\d+W\b|\bLW\b/i.test(text))
    return { problem: `cron '${cron}': L, W, # and ? are not POSIX cron syntax GitHub accepts` };
  let job: Cron;
  try {
    job = new Cron(text, { paused: true, timezone: "Etc/UTC", mode: "5-part", domAndDow: false });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
    return { problem: `cron '${cron}' is not a valid 5-field cron expression: ${why}` };
  }
  const sample = job.nextRuns(GAP_SAMPLE, REFERENCE);
  if (sample.length === 0) return { problem: `cron '${cron}' never fires` };
  for (let i = 1; i < sample.length; i++) {
    const gap = (sample[i]?.getTime() ?? 0) - (sample[i - 1]?.getTime() ?? 0);
    if (gap < MIN_SCHEDULE_INTERVAL_MS)
      return {
        problem: `cron '${cron}' fires every ${gap / 60_000} minute(s); GitHub's shortest schedule interval is 5 minutes: not scheduled`,
      };
  }
  return {
    schedule: {
      cron,
      latestAtOrBefore: (now) => job.previousRuns(1, new Date(now.getTime() + 1000))[0],
      nextAfter: (now) => job.nextRun(now) ?? undefined,
    },
  };
}
