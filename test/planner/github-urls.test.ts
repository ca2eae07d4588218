// The github context's server, REST and GraphQL URLs: github.com's API is on api.github.com,
// GHE.com's on api.<subdomain>.ghe.com, any other host is GitHub Enterprise Server style.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { githubUrls } from "../../src/planner/index.js";
import { githubContext } from "../../src/planner/context.js";

describe("githubUrls", () => {
  it("gives github.com's API host for github.com", () => {
    const want = {
      server_url: "https://github.com",
      api_url: "https://api.github.com",
      graphql_url: "https://api.github.com/graphql",
    };
    assert.deepEqual(githubUrls("https://github.com"), want);
    assert.deepEqual(githubUrls("https://github.com/"), want);
    assert.deepEqual(githubUrls("https://www.github.com"), want);
  });

  it("gives /api/v3 and /api/graphql for a GitHub Enterprise Server style host", () => {
    assert.deepEqual(githubUrls("https://ci.example.com/"), {
      server_url: "https://ci.example.com",
      api_url: "https://ci.example.com/api/v3",
      graphql_url: "https://ci.example.com/api/graphql",
    });
    // A port stays; a path does not (like actions/runner, only scheme, host and port count).
    assert.deepEqual(githubUrls("http://localhost:8080/some/path"), {
      server_url: "http://localhost:8080",
      api_url: "http://localhost:8080/api/v3",
      graphql_url: "http://localhost:8080/api/graphql",
    });
  });

  it("gives api.<subdomain>.ghe.com for GHE.com", () => {
    assert.deepEqual(githubUrls("https://octo.ghe.com"), {
      server_url: "https://octo.ghe.com",
      api_url: "https://api.octo.ghe.com",
      graphql_url: "https://api.octo.ghe.com/graphql",
    });
  });

  it("fills the github context", () => {
    const g = githubContext({
      event: "push",
      payload: {},
      repo: { root: "/tmp/r", commit: "a".repeat(40), originUrl: undefined } as never,
      fullName: "o/r",
      ref: "refs/heads/main",
      identity: { runId: "1", runNumber: 1, actor: "me", serverUrl: "https://github.com" },
      workflowName: "ci",
      workflowFile: ".github/workflows/ci.yml",
    });
    assert.equal(g.server_url, "https://github.com");
    assert.equal(g.api_url, "https://api.github.com");
    assert.equal(g.graphql_url, "https://api.github.com/graphql");
  });
});
