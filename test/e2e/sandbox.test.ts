// End-to-end: what a job can and cannot do inside its single-use sandbox.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";

const repos: TempRepo[] = [];
after(() => repos.forEach((r) => r.remove()));

interface JsonDoc {
  conclusion: string;
  jobs: Array<{ id: string; conclusion: string; steps: Array<{ conclusion: string }> }>;
}

const marker = `airlock-marker-${process.pid}-${Date.now()}`;

const workflow = `
on: push
jobs:
  inside:
    runs-on: ubuntu-latest
    steps:
      - name: workspace holds the repository at HEAD
        run: |
          test -f hello.txt
          test "$(git rev-parse HEAD)" = "$GITHUB_SHA"
          echo "workspace-ok $(cat hello.txt)"
      - name: no credential in git config
        run: |
          if grep -Eiq 'extraheader|password|token|@' .git/config; then echo creds-found; exit 1; fi
          echo "git-config-clean"
      - name: host filesystem is read-only
        run: |
          if touch /usr/airlock-should-not-exist 2>/dev/null; then echo wrote-host; exit 1; fi
          echo "host-readonly"
      - name: no network but loopback
        run: |
          n=$(tail -n +3 /proc/net/dev | grep -vc '^ *lo:' || true)
          echo "non-loopback-interfaces=$n"
          test "$n" = 0
      - name: own PID namespace
        run: |
          echo "pid-count=$(ls /proc | grep -c '^[0-9]')"
          test "$(ls /proc | grep -c '^[0-9]')" -lt 20
      - name: background process survives to the next step
        run: |
          bash -c 'exec -a ${marker} sleep 1000' &
          sleep 0.2
      - run: |
          for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null; echo; done > "$RUNNER_TEMP/ps.txt"
          grep -q '^${marker}' "$RUNNER_TEMP/ps.txt" && echo "background-visible"
  networked:
    runs-on: ubuntu-latest
    env:
      AIRLOCK_NETWORK: host
    steps:
      - run: |
          # A job cannot give itself the host's network: only loopback, whatever its env says.
          n=$(tail -n +3 /proc/net/dev | grep -vc '^ *lo:' || true)
          echo "host-network-interfaces=$n"
          test "$n" -eq 0
`;

void describe("sandbox end to end", () => {
  void it("isolates the job and kills every process it started when it ends", async () => {
    const repo = makeRepo({ ".github/workflows/w.yml": workflow, "hello.txt": "hi from the repo\n" });
    repos.push(repo);
    execFileSync("git", ["remote", "add", "origin", "https://user:s3cret@example.invalid/acme/repo.git"], {
      cwd: repo.dir,
    });
    const res = await runAirlock(repo.dir, ["run", "--json"]);
    const doc = JSON.parse(res.stdout) as JsonDoc;
    assert.equal(res.code, 0, res.stderr);
    assert.equal(doc.conclusion, "success");
    for (const s of [
      "workspace-ok hi from the repo",
      "git-config-clean",
      "host-readonly",
      "non-loopback-interfaces=0",
      "background-visible",
    ]) {
      assert.ok(res.stderr.includes(s), `log should contain ${s}\n${res.stderr}`);
    }
    assert.ok(!res.stderr.includes("s3cret"), "credential from the origin URL leaked into the log");
    const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    assert.ok(!ps.includes(marker), `a job process outlived its machine:\n${ps}`);
  });
});
