// `on: schedule` on the orchestrator, with a real database and a real git repository, driven by
// explicit ticks at chosen instants (no wall clock, no timers): a slot fires once on the default
// branch's latest commit with github.event.schedule; a second process, a repeat or a restart does
// not fire it again; after downtime only the latest missed slot fires; a cron seen for the first
// time does not fire for a slot that already passed; too-frequent expressions are refused with
// a warning.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claimSlot, CronScheduler, SCHEDULE_ACTOR } from "../../src/orchestrator/schedule.js";
import { triggerHarness, workflowFile, type TriggerHarness } from "./trigger-harness.js";

const NIGHTLY = workflowFile("Nightly", "  schedule:\n    - cron: '*/15 * * * *'\n    - cron: '0 3 * * *'");
const FAST = workflowFile("Fast", "  schedule:\n    - cron: '*/2 * * * *'");
const CI = workflowFile("CI", "  push:");

let h: TriggerHarness;
const scheduler = (): CronScheduler =>
  new CronScheduler({ pool: h.db.pool, config: h.config, logger: h.logger, runs: h.runs });
const at = (iso: string): Date => new Date(iso);

before(async () => {
  h = await triggerHarness({
    ".github/workflows/nightly.yml": NIGHTLY,
    ".github/workflows/fast.yml": FAST,
    ".github/workflows/ci.yml": CI,
  });
});
after(async () => {
  await h?.close();
});

describe("on: schedule", () => {
  let first: CronScheduler;
  let fired: number;

  it("a cron seen for the first time records its latest slot without firing", async () => {
    first = scheduler();
    assert.equal(await first.tick(at("2026-03-04T10:07:00Z")), 0);
    assert.deepEqual(await h.runRows(), []);
    const { rows } = await h.db.pool.query<{ workflow_file: string; cron: string; slot: Date }>(
      `SELECT workflow_file, cron, slot FROM schedule_slots ORDER BY cron`,
    );
    assert.deepEqual(
      rows.map((r) => [r.workflow_file, r.cron, r.slot.toISOString()]),
      [
        [".github/workflows/nightly.yml", "*/15 * * * *", "2026-03-04T10:00:00.000Z"],
        [".github/workflows/nightly.yml", "0 3 * * *", "2026-03-04T03:00:00.000Z"],
      ],
    );
  });

  it("refuses a schedule more frequent than every 5 minutes, saying so", () => {
    const warned = h.logLines().filter((l) => l.level === 40 && /fast\.yml/.test(l.msg));
    assert.equal(warned.length, 1, JSON.stringify(h.logLines()));
    assert.match(
      warned[0]?.msg ?? "",
      /'\*\/2 \* \* \* \*' fires every 2 minute\(s\).*5 minutes: not scheduled/,
    );
  });

  it("fires a due slot once, on the default branch's latest commit, with github.event.schedule", async () => {
    const head = h.commit({ "README.md": "newer\n" });
    assert.equal(await first.tick(at("2026-03-04T10:15:30Z")), 1);
    const runs = await h.runRows();
    assert.equal(runs.length, 1);
    const run = runs[0];
    assert.ok(run);
    fired = run.id;
    assert.equal(run.event, "schedule");
    assert.equal(run.trigger, "schedule");
    assert.equal(run.ref, "refs/heads/main");
    assert.equal(run.commit, head);
    assert.equal(run.workflow_file, ".github/workflows/nightly.yml");
    assert.equal(run.workflow_name, "Nightly");
    assert.equal(run.actor, SCHEDULE_ACTOR);
    assert.equal(run.trust_tier, "trusted");
    assert.equal(run.payload.schedule, "*/15 * * * *");
    assert.equal(run.payload.workflow, ".github/workflows/nightly.yml");
    assert.equal((run.payload.repository as { full_name: string }).full_name, "acme/app");
    assert.deepEqual(h.driven, [run.id]);
  });

  it("does not fire the same slot again: a repeat, another process, a restart", async () => {
    assert.equal(await first.tick(at("2026-03-04T10:16:00Z")), 0);
    // Two more orchestrator processes ticking at once at the same instant.
    const counts = await Promise.all([
      scheduler().tick(at("2026-03-04T10:29:59Z")),
      scheduler().tick(at("2026-03-04T10:29:59Z")),
    ]);
    assert.deepEqual(counts, [0, 0]);
    assert.deepEqual(
      (await h.runRows()).map((r) => r.id),
      [fired],
    );
  });

  it("several processes at a new slot: exactly one fires it", async () => {
    const counts = await Promise.all([
      scheduler().tick(at("2026-03-04T10:30:05Z")),
      scheduler().tick(at("2026-03-04T10:30:05Z")),
      scheduler().tick(at("2026-03-04T10:30:05Z")),
    ]);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      1,
    );
    assert.equal((await h.runRows()).length, 2);
  });

  it("after downtime only the latest missed slot fires (no burst), with the workflow as it is now", async () => {
    // The workflow changed on the default branch while the orchestrator was down: its new name
    // and the new commit are what the scheduled run uses.
    const head = h.commit({
      ".github/workflows/nightly.yml": NIGHTLY.replace("name: Nightly", "name: Nightly v2"),
    });
    const restarted = scheduler();
    // 10:30 → 13:20 missed eleven */15 slots; 03:00 is not due again until tomorrow.
    assert.equal(await restarted.tick(at("2026-03-04T13:20:00Z")), 1);
    const runs = await h.runRows();
    assert.equal(runs.length, 3);
    const last = runs.at(-1);
    assert.equal(last?.commit, head);
    assert.equal(last?.workflow_name, "Nightly v2");
    assert.equal(last?.payload.schedule, "*/15 * * * *");
    assert.equal(await restarted.tick(at("2026-03-04T13:25:00Z")), 0);
  });

  it("each cron of a workflow fires on its own slot", async () => {
    assert.equal(await scheduler().tick(at("2026-03-05T03:00:10Z")), 2); // 03:00 and */15 at 03:00
    const crons = (await h.runRows()).slice(-2).map((r) => r.payload.schedule);
    assert.deepEqual(crons.sort(), ["*/15 * * * *", "0 3 * * *"]);
  });

  it("a schedule removed from the default branch fires nothing", async () => {
    h.commit({ ".github/workflows/nightly.yml": CI.replace("name: CI", "name: Nightly") });
    const before = (await h.runRows()).length;
    // The mirror still holds the old commit: the slot is claimed, then the fetched file has no cron.
    assert.equal(await scheduler().tick(at("2026-03-05T03:15:00Z")), 0);
    assert.equal((await h.runRows()).length, before);
  });

  it("an unreachable repository warns once per 10 minutes and holds up no other", async () => {
    await h.db.pool.query(
      `INSERT INTO repositories (organization_id, name, clone_url, default_branch)
       SELECT id, 'acme/gone', '/nonexistent/airlock-gone.git', 'main' FROM organizations WHERE name = 'default'`,
    );
    // The schedule back on main, pushed (a push fetches the mirror the scheduler reads).
    h.commit({ ".github/workflows/nightly.yml": NIGHTLY });
    await h.runs.trigger(h.repositoryId, { event: "push" });
    const s = scheduler();
    const warnings = (): number => h.logLines().filter((l) => /schedule check failed/.test(l.msg)).length;
    const before = warnings();
    // acme/app still fires: the */15 slot at 10:00 and 0 3's slot of that morning.
    assert.equal(await s.tick(at("2026-03-06T10:00:00Z")), 2);
    assert.equal(warnings(), before + 1);
    await s.tick(at("2026-03-06T10:05:00Z"));
    assert.equal(warnings(), before + 1);
    await s.tick(at("2026-03-06T10:10:01Z"));
    assert.equal(warnings(), before + 2);
  });

  it("claimSlot only ever moves a slot forward", async () => {
    const id = h.repositoryId;
    assert.equal(await claimSlot(h.db.pool, id, "x.yml", "0 * * * *", at("2026-01-01T10:00:00Z")), "first");
    assert.equal(await claimSlot(h.db.pool, id, "x.yml", "0 * * * *", at("2026-01-01T10:00:00Z")), "taken");
    assert.equal(await claimSlot(h.db.pool, id, "x.yml", "0 * * * *", at("2026-01-01T09:00:00Z")), "taken");
    assert.equal(await claimSlot(h.db.pool, id, "x.yml", "0 * * * *", at("2026-01-01T11:00:00Z")), "fire");
  });
});
