// `airlock run` given a file it cannot use (-W, --secret-file, -e): one line naming the option and
// the file, a non-zero exit, no stack trace, and nothing run.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRepo, runAirlock } from "../helpers/repo.js";

const repo = makeRepo({
  ".github/workflows/ci.yml":
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
});
after(() => repo.remove());

describe("airlock run with a bad file", () => {
  const cases: Array<[string, string[], string | (() => void), RegExp, number]> = [
    ["-W missing", ["-W", "missing.yml"], "", /^airlock: .*missing\.yml\n$/, 2],
    [
      "--secret-file missing",
      ["--secret-file", "nope.env"],
      "",
      /^airlock: --secret-file nope\.env: no such file\n$/,
      2,
    ],
    ["-e missing", ["-e", "nope.json"], "", /^airlock: --event-path nope\.json: no such file\n$/, 2],
    [
      "-e not JSON",
      ["-e", "bad.json"],
      () => writeFileSync(join(repo.dir, "bad.json"), "{bad"),
      /^airlock: --event-path bad\.json: not valid JSON \([^\n]*\)\n$/,
      2,
    ],
    [
      "-e not an object",
      ["-e", "list.json"],
      () => writeFileSync(join(repo.dir, "list.json"), "[1]"),
      /^airlock: --event-path list\.json: expected a JSON object\n$/,
      2,
    ],
  ];
  for (const [name, args, setup, stderr, code] of cases) {
    it(name, async () => {
      if (typeof setup === "function") setup();
      const r = await runAirlock(repo.dir, ["run", ...args]);
      assert.match(r.stderr, stderr);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout, "");
    });
  }
});
