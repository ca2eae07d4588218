// `airlock agent` as a process, stopped by a signal while a job runs. The first SIGTERM stops it
// gracefully: it tells the orchestrator (heartbeat `draining`), rejects new assignments, lets the
// running job finish and its result be delivered (acknowledged), then exits 0. A second signal stops
// it at once: the running job is ended as by stop() and never reports success. The job waits for a
// file the test creates; nothing waits on a clock.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makeRepo } from "../helpers/repo.js";
import { FakeServer } from "./fake-server.js";
import { assignMsg, logTexts, tempDir, waitFor } from "./helpers.js";

const tmp = tempDir("airlock-agent-graceful-");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  tmp.remove();
});
const root = fileURLToPath(new URL("../..", import.meta.url));
// The agent's real workspace source checks the job's commit out of this repository.
const repo = makeRepo({ README: "graceful\n" });
after(() => repo.remove());
const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();

function startAgent(server: FakeServer, name: string) {
  const script = `
    import { agentCommand } from "./src/cli/agent.ts";
    process.exitCode = await agentCommand({
      server: ${JSON.stringify(server.url)}, label: [], provisioner: ["fake"],
      dataDir: ${JSON.stringify(`${tmp.dir}/${name}`)}, logFormat: "json",
    });`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    env: { ...process.env, AIRLOCK_REGISTRATION_TOKEN: "alk_reg_graceful", AIRLOCK_HOME: `${tmp.dir}/home` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  const out = { stderr: "" };
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out, exited };
}

/** A job that prints "waiting", then waits until `flag` exists. */
function waitingJob(jobId: number, flag: string): ReturnType<typeof assignMsg> {
  const msg = assignMsg(
    jobId,
    `      - run: |\n          echo waiting\n          while [ ! -e "$FLAG" ]; do sleep 0.05; done\n          echo flag seen\n        env:\n          FLAG: ${flag}\n`,
  );
  msg.job.source = { repository: repo.dir, commit, ref: "refs/heads/main", repositoryName: "octo/repo" };
  return msg;
}

describe("airlock agent: graceful stop", () => {
  it("first SIGTERM: no new jobs, the running one finishes and is delivered, then exit 0", async () => {
    const server = await new FakeServer({ registration: "alk_reg_graceful" }).start();
    after(() => server.close());
    const { child, out, exited } = startAgent(server, "graceful");
    await waitFor("hello", () => server.ofType("hello")[0]);
    const flag = `${tmp.dir}/flag-graceful`;
    server.send(waitingJob(1, flag));
    await waitFor("the job running", () => logTexts(server.outputOf(1)).includes("waiting"));

    child.kill("SIGTERM");
    await waitFor("the draining heartbeat", () =>
      server.ofType("heartbeat").find((h) => h.draining === true),
    );
    server.send(waitingJob(2, `${tmp.dir}/never`));
    const rejected = await waitFor("job 2 rejected", () =>
      server.ofType("rejected").find((r) => r.jobId === 2),
    );
    assert.match(rejected.reason, /shutting down/);
    // The running job holds the agent: it cannot have exited before the file exists.
    assert.equal(child.exitCode, null, out.stderr);
    assert.equal(server.ofType("finished").length, 0);

    writeFileSync(flag, "");
    assert.equal(await exited, 0, out.stderr);
    const finished = server.ofType("finished").filter((f) => f.jobId === 1);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.result.conclusion, "success");
    assert.ok(logTexts(server.outputOf(1)).includes("flag seen"));
    assert.equal(server.ofType("accepted").filter((a) => a.jobId === 2).length, 0, "job 2 never accepted");
    assert.match(out.stderr, /stopping gracefully: running jobs finish/);
  });

  it("a second signal stops at once: the running job is ended, never reported a success", async () => {
    const server = await new FakeServer({ registration: "alk_reg_graceful" }).start();
    after(() => server.close());
    const { child, out, exited } = startAgent(server, "at-once");
    await waitFor("hello", () => server.ofType("hello")[0]);
    const flag = `${tmp.dir}/flag-never-made`;
    server.send(waitingJob(1, flag));
    await waitFor("the job running", () => logTexts(server.outputOf(1)).includes("waiting"));
    child.kill("SIGTERM");
    await waitFor("the draining heartbeat", () =>
      server.ofType("heartbeat").find((h) => h.draining === true),
    );
    child.kill("SIGINT");
    assert.equal(await exited, 0, out.stderr);
    assert.ok(!existsSync(flag));
    assert.ok(!server.ofType("finished").some((f) => f.result.conclusion === "success"));
    assert.ok(!logTexts(server.outputOf(1)).includes("flag seen"));
    assert.match(out.stderr, /stopping at once/);
  });
});
