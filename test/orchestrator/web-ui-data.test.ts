// What the web UI reads about a real job (real orchestrator, PostgreSQL, agent and sandbox): the
// log as JSON pages with each chunk's style (groups folded by their empty group-end chunk), the
// run's annotations, and the step summaries carried from the agent in `finished`, masked. The text
// log stays what it was: the chunks' data, with nothing added for the group ends.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository, startTestService, triggerRuns, type TestService } from "../helpers/service.js";

const SECRET = "summary-secret-7f3a9c";
let t: TestService;
let repo: TempRepo;

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("node-ui"));
  repo = makeRepo({
    ".github/workflows/ci.yml": `name: CI
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: first
        env:
          TOKEN: \${{ secrets.TOKEN }}
        run: |
          echo "::group::Setup <b>"
          echo "inside the group"
          echo "::endgroup::"
          echo "::warning file=a.txt,line=3::careful now"
          echo "::error::broken <script>x</script>"
          echo "# Report <script>alert(1)</script>" >> "$GITHUB_STEP_SUMMARY"
          echo "token: $TOKEN" >> "$GITHUB_STEP_SUMMARY"
      - name: quiet
        run: echo "no summary here"
      - name: third
        run: printf '| a | b |\\n|---|---|\\n| 1 | 2 |\\n' >> "$GITHUB_STEP_SUMMARY"
`,
  });
});
after(async () => {
  await t.stop();
  repo.remove();
});

interface Chunk {
  attempt: number;
  seq: number;
  data: string;
  source: string;
  style: string | null;
  time: string;
}

describe("web UI data of a real job", () => {
  it("pages the log with styles, lists annotations and stores step summaries, masked", async () => {
    const repoId = await addRepository(t, "acme/ui", repo.dir);
    const put = await t.api("PUT", `/api/v1/repositories/${repoId}/secrets/TOKEN`, { value: SECRET });
    assert.ok(put.status < 300, put.text);
    const [runId] = await triggerRuns(t, repoId);
    const run = await t.waitRun(runId ?? -1, 120_000);
    const jobId = run.jobs[0]!.id;
    const log = async (): Promise<string> => (await t.api("GET", `/api/v1/jobs/${jobId}/logs`)).text;
    assert.equal(run.conclusion, "success", `${JSON.stringify(run)}\n${await log()}`);

    // The log as JSON pages: two chunks per page until `next` is null.
    const chunks: Chunk[] = [];
    let after = "";
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 500, "paging ends");
      const r = await t.api<{ chunks: Chunk[]; next: string | null; complete: boolean }>(
        "GET",
        `/api/v1/jobs/${jobId}/log-chunks?limit=2${after ? `&after=${after}` : ""}`,
      );
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.chunks.length <= 2);
      chunks.push(...r.body.chunks);
      assert.equal(r.body.next === null, r.body.complete);
      if (r.body.next === null) break;
      after = r.body.next;
    }
    const text = (await t.api("GET", `/api/v1/jobs/${jobId}/logs`)).text;
    assert.equal(chunks.map((c) => c.data).join(""), text, "the text log is the chunks' data, nothing added");
    const styled = (style: string): Chunk[] => chunks.filter((c) => c.style === style);
    // The step's own group (Airlock's "Run ..." group shows the script, with the same words).
    const group = styled("group").find((c) => c.source === "step" && c.data.includes("Setup <b>"));
    assert.ok(group, JSON.stringify(chunks));
    const end = styled("group-end");
    assert.ok(end.length >= 1);
    assert.ok(
      end.every((c) => c.data === ""),
      "a group's end is an empty chunk",
    );
    const inside = chunks.find((c) => c.source === "step" && c.data.includes("inside the group"));
    assert.equal(inside?.style, "log");
    assert.equal(inside?.source, "step");
    // The group's end comes after its lines (the user's group ends before the warning).
    const userEnd = end.find((c) => c.seq > inside.seq);
    assert.ok(group.seq < inside.seq);
    assert.ok(userEnd && userEnd.seq < styled("warning")[0]!.seq);
    assert.ok(styled("step").some((c) => c.data.includes("first")));
    assert.ok(styled("ok").some((c) => c.data.includes("Job success")));
    assert.ok(!text.includes(SECRET));

    // Annotations of the run, with their positions in the job's log.
    const a = await t.api<{
      runAttempt: number;
      truncated: boolean;
      annotations: Array<{
        jobId: number;
        jobName: string;
        attempt: number;
        seq: number;
        level: string;
        text: string;
      }>;
    }>("GET", `/api/v1/runs/${runId}/annotations`);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.truncated, false);
    assert.equal(a.body.runAttempt, 1);
    const levels = a.body.annotations.map((x) => x.level);
    assert.deepEqual(levels, ["warning", "error"]);
    assert.match(a.body.annotations[0]!.text, /a\.txt:3: careful now/);
    assert.match(a.body.annotations[1]!.text, /broken <script>x<\/script>/);
    for (const x of a.body.annotations) {
      assert.equal(x.jobId, jobId);
      const c = chunks.find((ch) => ch.attempt === x.attempt && ch.seq === x.seq);
      assert.equal(c?.style, x.level, "the annotation points at its chunk");
    }

    // Step summaries, in step order, masked, stored as text.
    const s = await t.api<Array<{ step: { index: number; id: string; name: string }; markdown: string }>>(
      "GET",
      `/api/v1/jobs/${jobId}/summaries`,
    );
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(
      s.body.map((x) => x.step.name),
      ["first", "third"],
    );
    assert.ok(s.body[0]!.step.index < s.body[1]!.step.index);
    assert.match(s.body[0]!.markdown, /^# Report <script>alert\(1\)<\/script>\n/);
    assert.ok(!s.body[0]!.markdown.includes(SECRET), s.body[0]!.markdown);
    assert.match(s.body[0]!.markdown, /token: \*\*\*/);
    assert.equal(s.body[1]!.markdown, "| a | b |\n|---|---|\n| 1 | 2 |\n");
  });
});
