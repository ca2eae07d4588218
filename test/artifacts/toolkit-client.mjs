// The real `@actions/artifact` client (what actions/upload-artifact@v4 and download-artifact@v4 run),
// in a process of its own with the job's environment (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL,
// GITHUB_WORKSPACE) set by the test. Prints one line `RESULT <json>` after the toolkit's own output.
import { DefaultArtifactClient } from "@actions/artifact";

const [op, ...args] = process.argv.slice(2);
const client = new DefaultArtifactClient();
let result;
try {
  let out;
  if (op === "upload") {
    const [name, root, ...files] = args;
    out = await client.uploadArtifact(name, files, root, { retentionDays: 2 });
  } else if (op === "list") out = await client.listArtifacts();
  else if (op === "get") out = await client.getArtifact(args[0]);
  else if (op === "download") out = await client.downloadArtifact(Number(args[0]), { path: args[1], expectedHash: args[2] });
  else if (op === "delete") out = await client.deleteArtifact(args[0]);
  else throw new Error(`unknown op ${op}`);
  result = { ok: true, out };
} catch (err) {
  result = { ok: false, error: err instanceof Error ? err.message : String(err) };
}
process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
