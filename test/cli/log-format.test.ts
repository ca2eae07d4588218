// Server and agent log format: the decision (flag over AIRLOCK_LOG_FORMAT over "is it a terminal"),
// and a real `airlock agent` run with its log piped: JSON lines. The agent points at a closed port,
// so its log names that cause (once), and it is stopped by SIGTERM once that shows.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseLogFormat } from "../../src/cli/logging.js";
import { loadOptions } from "../../src/config/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "airlock-log-format-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("log format", () => {
  it("flag, then AIRLOCK_LOG_FORMAT, then pretty exactly on a terminal", () => {
    assert.equal(chooseLogFormat({ setting: "auto", isTTY: true }), "pretty");
    assert.equal(chooseLogFormat({ setting: "auto", isTTY: false }), "json");
    assert.equal(chooseLogFormat({ setting: "json", isTTY: true }), "json");
    assert.equal(chooseLogFormat({ setting: "pretty", isTTY: false }), "pretty");
    assert.equal(chooseLogFormat({ flag: "json", setting: "pretty", isTTY: true }), "json");
    assert.equal(chooseLogFormat({ flag: "auto", setting: "json", isTTY: true }), "pretty");
    assert.throws(() => chooseLogFormat({ flag: "yaml", setting: "auto", isTTY: true }), { code: "USAGE" });
    assert.equal(loadOptions({ AIRLOCK_LOG_FORMAT: "pretty" }).logFormat, "pretty");
    assert.equal(loadOptions({}).logFormat, "auto");
    assert.throws(() => loadOptions({ AIRLOCK_LOG_FORMAT: "xml" }), {
      code: "CONFIG_INVALID",
      message: /AIRLOCK_LOG_FORMAT/,
    });
  });

  it("a real agent, piped: JSON lines, one of them the cause of its failing connection", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const { port } = s.address() as AddressInfo;
    await new Promise<void>((r) => s.close(() => r()));
    const dataDir = join(tmp, "pipe");
    mkdirSync(dataDir, { recursive: true });
    // A credential (it is never accepted here): the agent starts and dials at once.
    writeFileSync(join(dataDir, "node-credential"), "alk_node_test\n", { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, AIRLOCK_HOME: join(tmp, "home") };
    delete env.AIRLOCK_LOG_FORMAT;
    const child = spawn(
      process.execPath,
      [
        ...["--import", "tsx", "--input-type=module", "-e"],
        `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "airlock", ...process.argv.slice(1)]);`,
        ...["agent", "--server", `http://127.0.0.1:${port}`, "--provisioner", "fake", "--data-dir", dataDir],
      ],
      { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let out = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const seen = new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes('"cause":"connection-refused"')) resolve();
      }),
    );
    await Promise.race([seen, exited]);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    const lines = out.trim().split("\n");
    for (const l of lines) assert.equal(typeof (JSON.parse(l) as { level: number }).level, "number", l);
    const cause = lines.map((l) => JSON.parse(l) as { cause?: string; msg: string }).find((l) => l.cause);
    assert.match(cause?.msg ?? "", new RegExp(`^connection refused at 127\\.0\\.0\\.1:${port} .*retrying$`));
    assert.equal(lines.filter((l) => l.includes('"cause":"connection-refused"')).length, 1, "once");
  });
});
