// One embedded PostgreSQL for a whole test run (scripts/test.sh): starts it in a fresh temporary
// folder, writes its URL to the file named by argv[2], and on SIGTERM/SIGINT stops it and removes
// the folder, so nothing is left running or on disk.
import { chmod, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "../../src/db/index.js";

const urlFile = process.argv[2];
if (!urlFile) {
  console.error("usage: node --import tsx test/helpers/db-server.ts <url-file>");
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), "airlock-test-pg-"));
await chmod(dir, 0o755); // the server runs as an unprivileged user when we are root
const server = await startEmbedded({ dataDir: dir, log: (line) => console.error(`test-db: ${line}`) }).catch(
  async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  },
);
let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await rm(dir, { recursive: true, force: true });
};
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
await writeFile(`${urlFile}.tmp`, server.url, { mode: 0o600 });
await rename(`${urlFile}.tmp`, urlFile);
