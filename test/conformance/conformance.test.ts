// Conformance corpus: GitHub Actions scenarios with known GitHub outcomes (see README.md), run
// through the real `airlock run --json`. One subtest per case; a case whose conclusions differ
// from GitHub's is reported as TODO (an honest, counted gap) rather than failing the run, and the
// final subtest fails when fewer than 90 % of the cases match.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../helpers/repo.js";
import { loadCases } from "./corpus.js";
import { createPool, runCase, summarise, type CaseResult } from "./run-case.js";

const REQUIRED_RATE = 0.9;
const CONCURRENCY = 2;
const TIMEOUT_MS = Number(process.env.AIRLOCK_CONFORMANCE_TIMEOUT_MS ?? 60_000);

const cases = loadCases(join(dirname(fileURLToPath(import.meta.url)), "cases"));
const results = new Map<string, Promise<CaseResult>>();

describe("conformance with GitHub Actions", () => {
  before(() => {
    const cli = join(projectRoot, "dist", "src", "cli", "main.js");
    assert.ok(existsSync(cli), `${cli} is missing: build first (npm run build)`);
    // Start every case now, two at a time, while the subtests below await them in order.
    const pool = createPool(CONCURRENCY);
    for (const c of cases)
      results.set(
        c.name,
        pool(() => runCase(c, TIMEOUT_MS)),
      );
  });

  for (const c of cases) {
    it(c.name, async (t) => {
      const r = await results.get(c.name);
      assert.ok(r, "case did not start");
      if (!r.match) {
        t.todo(`differs from GitHub: ${summarise(r)}`);
        t.diagnostic(`log tail:\n${r.logTail}`);
      }
      assert.equal(r.match, true, `${c.name}: ${summarise(r)} (source: ${c.source})`);
    });
  }

  it(`at least ${REQUIRED_RATE * 100} % of the corpus matches GitHub`, async (t) => {
    const done = await Promise.all([...results.values()]);
    const matched = done.filter((r) => r.match).length;
    const rate = cases.length === 0 ? 0 : matched / cases.length;
    const line = `conformance: ${matched}/${cases.length} cases match (${(rate * 100).toFixed(1)} %)`;
    const misses = done.filter((r) => !r.match).map((r) => `  ${r.name}: ${summarise(r)}`);
    const report = [line, ...misses].join("\n");
    console.log(report);
    t.diagnostic(report);
    assert.ok(cases.length >= 40, `the corpus should hold at least 40 cases, has ${cases.length}`);
    assert.ok(rate >= REQUIRED_RATE, report);
  });
});
