// A reader that stops early (`airlock runs list | head -1`) closes the CLI's stdout: the CLI
// ends quietly, exit 0, no EPIPE stack trace. Spawns the real binary against the stub server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { airlockBin } from "../helpers/repo.js";
import { runCli, useStubCli } from "./harness.js";

describe("a closed stdout", () => {
  const ctx = useStubCli(async ({ env, stub }) => {
    await runCli(["repos", "add", "acme/app", "https://x/app.git"], env);
    await runCli(["runs", "trigger", "acme/app"], env);
    const first = stub.runs[0]!;
    // Far more than a pipe holds (64 KiB), so the CLI is still writing when the reader goes away.
    for (let i = 0; i < 5000; i++) stub.runs.push({ ...first, id: first.id + 1 + i, number: i + 2 });
  });

  it("`airlock runs list | head -1`: the CLI exits 0 and prints nothing on stderr", async () => {
    const child = spawn(process.execPath, [airlockBin, "runs", "list"], {
      env: { ...process.env, ...ctx.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });
});
