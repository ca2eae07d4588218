// parseSchedule: GitHub's cron dialect (5 POSIX fields, UTC, names, OR of day-of-month and
// day-of-week) and its 5-minute minimum, checked on fixed instants (never the wall clock).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSchedule, type CronSchedule } from "../../src/workflow/index.js";

function schedule(cron: string): CronSchedule {
  const r = parseSchedule(cron);
  assert.ok("schedule" in r, "problem" in r ? r.problem : "");
  return r.schedule;
}

function problem(cron: string): string {
  const r = parseSchedule(cron);
  assert.ok("problem" in r, `${cron} was accepted`);
  return r.problem;
}

const at = (iso: string): Date => new Date(iso);

describe("parseSchedule", () => {
  it("the latest slot at or before an instant, in UTC", () => {
    const s = schedule("*/15 * * * *");
    assert.equal(s.latestAtOrBefore(at("2026-03-04T10:15:00Z"))?.toISOString(), "2026-03-04T10:15:00.000Z");
    assert.equal(s.latestAtOrBefore(at("2026-03-04T10:14:59Z"))?.toISOString(), "2026-03-04T10:00:00.000Z");
    assert.equal(s.nextAfter(at("2026-03-04T10:15:00Z"))?.toISOString(), "2026-03-04T10:30:00.000Z");
    // 30 5 * * *: 05:30 UTC, whatever the machine's time zone.
    assert.equal(
      schedule("30 5 * * *").latestAtOrBefore(at("2026-03-04T05:29:00Z"))?.toISOString(),
      "2026-03-03T05:30:00.000Z",
    );
  });

  it("names and the OR of day-of-month and day-of-week, as POSIX cron", () => {
    assert.equal(
      schedule("0 12 * * MON-FRI").latestAtOrBefore(at("2026-03-08T13:00:00Z"))?.toISOString(),
      "2026-03-06T12:00:00.000Z", // Sunday the 8th → Friday the 6th
    );
    // The 1st of the month OR any Monday: Sunday 1 March 2026 fires, and so does Monday the 2nd.
    const s = schedule("0 0 1 * 1");
    assert.equal(s.latestAtOrBefore(at("2026-03-01T12:00:00Z"))?.toISOString(), "2026-03-01T00:00:00.000Z");
    assert.equal(s.latestAtOrBefore(at("2026-03-02T12:00:00Z"))?.toISOString(), "2026-03-02T00:00:00.000Z");
  });

  it("refuses schedules more frequent than GitHub's 5-minute minimum", () => {
    assert.match(problem("* * * * *"), /every 1 minute.*5 minutes: not scheduled/);
    assert.match(problem("*/4 * * * *"), /every 4 minute/);
    // Two entries of one list 2 minutes apart: the shortest gap counts.
    assert.match(problem("0,2 * * * *"), /every 2 minute/);
    schedule("*/5 * * * *");
    schedule("0,5,10 * * * *");
  });

  it("refuses what GitHub's cron does not accept, with the reason", () => {
    assert.match(problem("0 0 * * * *"), /not a valid 5-field cron expression/);
    assert.match(problem("61 * * * *"), /not a valid 5-field cron expression/);
    assert.match(problem("@daily"), /nicknames/);
    assert.match(problem("0 0 L * *"), /L, W, # and \?/);
    assert.match(problem("0 0 * * 1#2"), /L, W, # and \?/);
  });
});
