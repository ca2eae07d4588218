// For end-to-end tests of the artifact and cache services in real jobs: the official toolkit
// client bundled into a JavaScript action (esbuild, one ES module with a require() for the
// bundled CommonJS parts), and a push run of a repository registered as a GitHub one (the
// toolkit refuses any GITHUB_SERVER_URL but github.com's) on a fresh node of its own.
import assert from "node:assert/strict";
import { build } from "esbuild";
import type { RunView, TestService } from "./service.js";

export async function bundleAction(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return out.outputFiles[0]!.text;
}

/** Registers `cloneUrl` as GitHub repository `name`, triggers a push run, starts a node, waits. */
export async function runGitHubRepository(
  t: TestService,
  o: { name: string; cloneUrl: string; node: string; timeoutMs?: number },
): Promise<RunView> {
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: o.name,
    cloneUrl: o.cloneUrl,
  });
  assert.equal(r.status, 201, r.text);
  const forge = await t.api("PUT", `/api/v1/repositories/${r.body.id}/forge`, { kind: "github" });
  assert.equal(forge.status, 200, forge.text);
  const trig = await t.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${r.body.id}/runs`,
    {},
  );
  assert.equal(trig.body.runs?.length, 1, trig.text);
  await t.startAgent(await t.addNode(o.node));
  return t.waitRun(trig.body.runs[0]!.id, o.timeoutMs ?? 240_000);
}
