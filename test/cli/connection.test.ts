// Where the CLI finds its server and token, and the one-line errors when the token is refused
// or nothing answers. ~/.airlock/cli.json is read from AIRLOCK_HOME.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { runCli, stubEnv, tempHome, useStubCli } from "./harness.js";
import { TOKEN } from "./stub-server.js";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("CLI connection settings and errors", () => {
  const ctx = useStubCli();
  const lastAuth = (): string | undefined => ctx.stub.requests.at(-1)?.headers.authorization;

  it("a refused token is UNAUTHORIZED, exit 1, one line naming where the token came from", async () => {
    const r = await runCli(["nodes", "list"], stubEnv(ctx.stub.url, ctx.home, "wrong"));
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "UNAUTHORIZED");
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /AIRLOCK_TOKEN/);
    assert.equal(r.stdout, "");
  });

  it("no token at all is UNAUTHORIZED and no Authorization header is sent", async () => {
    const r = await runCli(["nodes", "list"], stubEnv(ctx.stub.url, ctx.home, null));
    assert.equal(r.error?.code, "UNAUTHORIZED");
    assert.equal(lastAuth(), undefined);
  });

  it("an unreachable server is SERVER_UNREACHABLE, exit 1, one line", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(["repos", "list"], stubEnv(url, ctx.home));
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "SERVER_UNREACHABLE");
    assert.ok(r.stderr.includes(url));
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("--server and --token win over the environment", async () => {
    const env = stubEnv("http://127.0.0.1:9", ctx.home, "env-token");
    const r = await runCli(["nodes", "list", "--server", ctx.stub.url, "--token", TOKEN], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastAuth(), `Bearer ${TOKEN}`);
  });

  it("reads server and token from cli.json when the environment names neither", async () => {
    const dir = tempHome();
    try {
      writeFileSync(join(dir.dir, "cli.json"), JSON.stringify({ server: ctx.stub.url, token: TOKEN }));
      const r = await runCli(["nodes", "list", "--json"], { AIRLOCK_HOME: dir.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), []);
      assert.equal(lastAuth(), `Bearer ${TOKEN}`);
    } finally {
      dir.remove();
    }
  });

  it("does not send cli.json's token to a different server", async () => {
    const dir = tempHome();
    try {
      writeFileSync(
        join(dir.dir, "cli.json"),
        JSON.stringify({ server: "http://10.0.0.1:8420", token: TOKEN }),
      );
      const r = await runCli(["nodes", "list", "--server", ctx.stub.url], { AIRLOCK_HOME: dir.dir });
      assert.equal(r.error?.code, "UNAUTHORIZED");
      assert.equal(lastAuth(), undefined);
      assert.ok(r.stderr.includes("http://10.0.0.1:8420"));
    } finally {
      dir.remove();
    }
  });

  it("a malformed cli.json is CONFIG_INVALID; a malformed --server is USAGE", async () => {
    const dir = tempHome();
    try {
      writeFileSync(join(dir.dir, "cli.json"), "{ not json");
      const bad = await runCli(["nodes", "list"], { AIRLOCK_HOME: dir.dir });
      assert.equal(bad.error?.code, "CONFIG_INVALID");
      const usage = await runCli(["nodes", "list", "--server", "ftp://x"], stubEnv(ctx.stub.url, ctx.home));
      assert.equal(usage.code, 2);
      assert.equal(usage.error?.code, "USAGE");
    } finally {
      dir.remove();
    }
  });
});
