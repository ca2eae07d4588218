// `airlock server` refusing to start says why in one line and exits 1, no stack trace: its port
// already taken (by a plain Node server here), its -c file missing or not YAML.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { airlockBin } from "../helpers/repo.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

function airlock(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [airlockBin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

describe("airlock server refusing to start", () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), "airlock-server-start-"));
    env = {
      ...process.env,
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: join(dir, "data"),
      AIRLOCK_HOME: join(dir, "home"),
      AIRLOCK_LOG_LEVEL: "silent",
    };
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("its port in use: one line naming the address, exit 1", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await airlock(["server", "--host", "127.0.0.1", "--port", String(port)], env);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr,
        `airlock: cannot listen on 127.0.0.1:${port}: the address is in use (another airlock server? set --port or AIRLOCK_PORT)\n`,
      );
      assert.equal(r.stdout, "");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("-c naming a missing file, or a file that is not YAML: one line naming the file, exit 1", async () => {
    const missing = join(dir, "missing.yml");
    const m = await airlock(["server", "-c", missing, "--port", "0"], env);
    assert.equal(m.code, 1, m.stderr);
    assert.equal(m.stderr.split("\n").length, 2, m.stderr);
    assert.match(m.stderr, new RegExp(`^airlock: .*${missing}: cannot be read \\(ENOENT\\)`));
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, "listenPort: [1, 2\n  nope: {\n");
    const b = await airlock(["server", "-c", bad, "--port", "0"], env);
    assert.equal(b.code, 1, b.stderr);
    assert.equal(b.stderr.split("\n").length, 2, b.stderr);
    assert.match(b.stderr, new RegExp(`^airlock: .*${bad}: not valid YAML or JSON`));
  });
});
