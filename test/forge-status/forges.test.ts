// The pure half of the forge status reporter: which forge and API a clone URL leads to, each
// forge's words for a run's phase, and the request it documents (path, headers, JSON body).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cloneHost,
  forgeState,
  resolveForge,
  statusRequest,
  type StatusFacts,
} from "../../src/forge-status/index.js";

const SHA = "a".repeat(40);
const facts = (over: Partial<StatusFacts>): StatusFacts => ({
  kind: "github",
  apiUrl: "https://api.github.com",
  path: "octo/app",
  commit: SHA,
  context: "airlock/CI",
  phase: "running",
  targetUrl: "https://ci.example.com/api/v1/runs/7",
  description: "Airlock run #3 is running",
  ref: "refs/heads/main",
  ...over,
});
const resolve = (cloneUrl: string, extra: Partial<Parameters<typeof resolveForge>[0]> = {}) =>
  resolveForge({ name: "acme/app", cloneUrl, kind: null, apiUrl: null, ...extra });

describe("clone URLs", () => {
  it("give the forge's web host and the project path, whatever their form", () => {
    assert.deepEqual(cloneHost("git@github.com:octo/app.git"), {
      scheme: "https",
      host: "github.com",
      path: "octo/app",
    });
    assert.deepEqual(cloneHost("ssh://git@gitlab.example.com:2222/g/sub/p.git"), {
      scheme: "https",
      host: "gitlab.example.com",
      path: "g/sub/p",
    });
    assert.deepEqual(cloneHost("http://gitea.local:3000/o/r"), {
      scheme: "http",
      host: "gitea.local:3000",
      path: "o/r",
    });
    assert.equal(cloneHost("/srv/git/app"), undefined);
    assert.equal(cloneHost("file:///srv/git/app"), undefined);
  });

  it("lead to each forge's API base; self-hosted ones need the kind, which webhooks can tell", () => {
    assert.deepEqual(resolve("https://github.com/octo/app.git"), {
      ok: true,
      kind: "github",
      apiUrl: "https://api.github.com",
      path: "octo/app",
    });
    assert.deepEqual(resolve("git@bitbucket.org:ws/slug.git"), {
      ok: true,
      kind: "bitbucket",
      apiUrl: "https://api.bitbucket.org",
      path: "ws/slug",
    });
    assert.equal(
      (resolve("https://codeberg.org/o/r") as { apiUrl: string }).apiUrl,
      "https://codeberg.org/api/v1",
    );
    assert.equal(
      (resolve("https://gitlab.com/g/p") as { apiUrl: string }).apiUrl,
      "https://gitlab.com/api/v4",
    );
    const ghe = resolve("https://ghe.example.com/o/r.git", { kind: "github" });
    assert.equal((ghe as { apiUrl: string }).apiUrl, "https://ghe.example.com/api/v3");
    const unknown = resolve("https://git.example.com/o/r.git");
    assert.equal(unknown.ok, false);
    assert.match((unknown as { problem: string }).problem, /--kind/);
    const hooked = resolve("https://git.example.com/o/r.git", { webhookProvider: "gitea" });
    assert.equal((hooked as { apiUrl: string }).apiUrl, "https://git.example.com/api/v1");
    // The configured values win; a local clone URL takes the repository's name as the path.
    assert.deepEqual(resolve("/srv/git/app", { kind: "gitlab", apiUrl: "http://127.0.0.1:9/api/v4/" }), {
      ok: true,
      kind: "gitlab",
      apiUrl: "http://127.0.0.1:9/api/v4",
      path: "acme/app",
    });
    assert.equal(resolve("/srv/git/app", { kind: "gitlab" }).ok, false, "no host, no API URL");
  });
});

describe("statuses", () => {
  it("use each forge's words; cancelled as each supports", () => {
    assert.deepEqual(
      (["github", "gitlab", "gitea", "bitbucket"] as const).map((k) =>
        (["queued", "running", "success", "failure", "cancelled"] as const).map((p) => forgeState(k, p)),
      ),
      [
        ["pending", "pending", "success", "failure", "error"],
        ["pending", "running", "success", "failed", "canceled"],
        ["pending", "pending", "success", "failure", "error"],
        ["INPROGRESS", "INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED"],
      ],
    );
  });

  it("are the documented requests, the token in a header only", () => {
    const gh = statusRequest(facts({}), "T0K");
    assert.equal(gh.url, `https://api.github.com/repos/octo/app/statuses/${SHA}`);
    assert.equal(gh.headers.authorization, "Bearer T0K");
    assert.equal(gh.headers["x-github-api-version"], "2022-11-28");
    assert.deepEqual(JSON.parse(gh.body), {
      state: "pending",
      target_url: "https://ci.example.com/api/v1/runs/7",
      description: "Airlock run #3 is running",
      context: "airlock/CI",
    });
    const gl = statusRequest(
      facts({ kind: "gitlab", apiUrl: "https://gl.example.com/api/v4", path: "g/sub/p", phase: "success" }),
      "T0K",
    );
    assert.equal(gl.url, `https://gl.example.com/api/v4/projects/g%2Fsub%2Fp/statuses/${SHA}`);
    assert.equal(gl.headers["private-token"], "T0K");
    assert.deepEqual(JSON.parse(gl.body), {
      state: "success",
      name: "airlock/CI",
      target_url: "https://ci.example.com/api/v1/runs/7",
      description: "Airlock run #3 is running",
      ref: "main",
    });
    const pr = statusRequest(facts({ kind: "gitlab", ref: "refs/pull/4/merge" }), "T0K");
    assert.equal(JSON.parse(pr.body).ref, undefined, "a ref that is no branch or tag is left out");
    const gt = statusRequest(facts({ kind: "gitea", apiUrl: "https://gt/api/v1" }), "T0K");
    assert.equal(gt.headers.authorization, "token T0K");
    const bb = statusRequest(
      facts({ kind: "bitbucket", apiUrl: "https://api.bitbucket.org", phase: "cancelled" }),
      "T0K",
    );
    assert.equal(bb.url, `https://api.bitbucket.org/2.0/repositories/octo/app/commit/${SHA}/statuses/build`);
    assert.deepEqual(JSON.parse(bb.body), {
      key: "airlock/CI",
      state: "STOPPED",
      name: "airlock/CI",
      url: "https://ci.example.com/api/v1/runs/7",
      description: "Airlock run #3 is running",
      refname: "main",
    });
    for (const r of [gh, gl, gt, bb]) assert.ok(!r.url.includes("T0K") && !r.body.includes("T0K"));
  });

  it("carry hostile names as data: encoded in the path, JSON in the body", () => {
    const hostile = 'CI"\n$(rm -rf /)';
    const r = statusRequest(facts({ path: "o?x=1/r#y", context: `airlock/${hostile}` }), "T");
    assert.equal(r.url, `https://api.github.com/repos/o%3Fx%3D1/r%23y/statuses/${SHA}`);
    assert.equal(JSON.parse(r.body).context, `airlock/${hostile}`);
  });
});
