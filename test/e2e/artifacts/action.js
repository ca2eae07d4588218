// A JavaScript action around the real `@actions/artifact` client (what actions/upload-artifact@v4
// and download-artifact@v4 run), bundled by the test with esbuild into the job's repository.
// Inputs: op (upload | download), name, path. Prints what it did; fails the step on an error.
import { readdirSync, statSync, appendFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DefaultArtifactClient } from "@actions/artifact";

const input = (n) => process.env[`INPUT_${n.toUpperCase()}`] ?? "";
const files = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

const client = new DefaultArtifactClient();
try {
  const root = resolve(process.env.GITHUB_WORKSPACE, input("path"));
  if (input("op") === "upload") {
    const { id, size, digest } = await client.uploadArtifact(input("name"), files(root), root);
    console.log(`uploaded artifact ${id}: ${size} bytes, sha256 ${digest}`);
    appendFileSync(process.env.GITHUB_OUTPUT, `id=${id}\ndigest=${digest}\n`);
  } else {
    const { artifact } = await client.getArtifact(input("name"));
    const { downloadPath } = await client.downloadArtifact(artifact.id, { path: root });
    console.log(`downloaded artifact ${artifact.id} (${artifact.size} bytes) to ${downloadPath}`);
  }
} catch (err) {
  console.log(`::error::${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
