// `airlock repos forge` as a table: a kind set by `--kind` is shown even when no API URL can be
// inferred (a repository cloned from a local path, as the artifact services need `--kind github`
// for): it said "Forge: unknown (set)" while `--json` said github.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RepositoryForge } from "../../src/cli/api/index.js";
import { forgeView } from "../../src/cli/commands/forge.js";

describe("forgeView", () => {
  it("names the kind that was set when nothing could be resolved", () => {
    const f = {
      id: 1,
      name: "acme/app",
      kind: "github",
      apiUrl: null,
      resolved: null,
      problem: "acme/app has no forge API URL",
      serverUrl: "https://github.com",
      forgeToken: false,
    } as unknown as RepositoryForge;
    assert.match(forgeView(f), /^Forge: {5}github \(set\)$/m);
    assert.match(forgeView({ ...f, kind: null }), /^Forge: {5}unknown \(inferred\)$/m);
  });
});
