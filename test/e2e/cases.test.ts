// End-to-end cases as files: each folder under cases/ holds a repository (`repo/`) and the
// expected outcome (`case.json`). The real `airlock` binary runs it in real sandboxes.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";

interface Case {
  description: string;
  args?: string[];
  exitCode: number;
  /** display name → conclusion */
  jobs?: Record<string, string>;
  /** display name → list of step conclusions in order */
  steps?: Record<string, string[]>;
  /** display name → expected outputs (subset) */
  outputs?: Record<string, Record<string, string>>;
  /** strings the log (stderr with --json) must / must not contain */
  logContains?: string[];
  logNotContains?: string[];
  /** content of a secret file passed with --secret-file */
  secrets?: string;
}

const casesDir = join(dirname(fileURLToPath(import.meta.url)), "cases");
const repos: TempRepo[] = [];
after(() => repos.forEach((r) => r.remove()));

interface JsonJob {
  id: string;
  name: string;
  conclusion: string;
  outputs: Record<string, string>;
  steps: Array<{ conclusion: string }>;
}

describe("airlock run end to end", { concurrency: 2 }, () => {
  for (const name of readdirSync(casesDir).sort()) {
    const dir = join(casesDir, name);
    if (!existsSync(join(dir, "case.json"))) continue;
    const c = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as Case;
    it(`${name}: ${c.description}`, async () => {
      const repo = makeRepo({}, join(dir, "repo"));
      repos.push(repo);
      const args = [...(c.args ?? ["push"]), "--json"];
      if (c.secrets !== undefined) {
        const file = join(mkdtempSync(join(tmpdir(), "airlock-secrets-")), "secrets");
        writeFileSync(file, c.secrets);
        args.push("--secret-file", file);
      }
      const res = await runAirlock(repo.dir, ["run", ...args]);
      const log = res.stderr;
      assert.equal(res.code, c.exitCode, `exit code\n--- log ---\n${log}\n--- stdout ---\n${res.stdout}`);
      if (c.jobs || c.steps || c.outputs) {
        const doc = JSON.parse(res.stdout) as { jobs: JsonJob[] };
        const byName = new Map(doc.jobs.map((j) => [j.name, j]));
        const got = Object.fromEntries(doc.jobs.map((j) => [j.name, j.conclusion]));
        if (c.jobs) assert.deepEqual(got, c.jobs, `job conclusions\n--- log ---\n${log}`);
        for (const [job, steps] of Object.entries(c.steps ?? {})) {
          assert.deepEqual(
            byName.get(job)?.steps.map((s) => s.conclusion),
            steps,
            `steps of ${job}\n${log}`,
          );
        }
        for (const [job, outputs] of Object.entries(c.outputs ?? {})) {
          const actual = byName.get(job)?.outputs ?? {};
          for (const [k, v] of Object.entries(outputs))
            assert.equal(actual[k], v, `output ${job}.${k}\n${log}`);
        }
      }
      for (const s of c.logContains ?? [])
        assert.ok(log.includes(s), `log should contain ${JSON.stringify(s)}\n${log}`);
      for (const s of c.logNotContains ?? [])
        assert.ok(!log.includes(s), `log must not contain ${JSON.stringify(s)}\n${log}`);
    });
  }
});
