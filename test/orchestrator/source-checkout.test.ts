// A private repository behind basic auth, through a real agent and sandbox: the job's workspace is
// checked out with the repository's sealed clone password, which travels to the node sealed under
// the run key (JobDescription.sealedSource) and is opened there with the job's secrets for the
// checkout only. The job sees its files; it never sees the password — not in its environment, its
// contexts, its workspace's git config or its log — and the stored description holds it sealed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initRepo, rmDir, startGitHttp, tempDir, type GitHttpServer } from "../actions/helpers.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { startAuthProxy, type AuthProxy } from "../sources/auth-proxy.js";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          cat README.md
          env | grep -c "${PASSWORD.slice(0, 10)}" || true
          git -C "$GITHUB_WORKSPACE" config --list | grep -i url || true
          cat "$GITHUB_EVENT_PATH" | head -c 2000
`;

let root: string;
let backend: GitHttpServer;
let proxy: AuthProxy;
let t: TestService;
before(async () => {
  root = tempDir("airlock-source-checkout-");
  initRepo(join(root, "srv", "octo", "private"), {
    ".github/workflows/ci.yml": WORKFLOW,
    "README.md": "private repository contents\n",
  });
  backend = await startGitHttp(join(root, "srv"));
  proxy = await startAuthProxy(backend.url, "ci", PASSWORD);
  t = await startTestService();
});
after(async () => {
  await t?.stop();
  await proxy?.close();
  await backend?.close();
  rmDir(root);
});

describe("checkout of a private repository on a node", () => {
  it("uses the sealed clone password, which the job never sees", async () => {
    const made = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "default/private",
      cloneUrl: proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/private",
    });
    assert.equal(made.status, 201, made.text);
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${made.body.id}/runs`,
      {},
    );
    assert.equal(trig.status, 201, trig.text);
    const runId = trig.body.runs[0]!.id;
    await t.startAgent(await t.addNode("node-private"));
    const run = await t.waitRun(runId, 120_000);
    const { rows } = await t.db.pool.query<{ id: string; description: Record<string, unknown> }>(
      "SELECT id, description FROM jobs WHERE run_id = $1",
      [runId],
    );
    const log = (await t.api("GET", `/api/v1/jobs/${rows[0]!.id}/logs`)).text;
    assert.equal(run.conclusion, "success", log);
    assert.ok(log.includes("private repository contents"), log);
    assert.ok(!log.includes(PASSWORD) && !log.includes(PASSWORD.slice(0, 10) + "\n"), log);
    assert.ok(log.includes("  | 0\n"), "no variable of the job holds the password");
    assert.match(String(rows[0]!.description.sealedSource), /^a1\./);
    assert.ok(!JSON.stringify(rows[0]!.description).includes(PASSWORD));
  });
});
