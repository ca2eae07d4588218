// Server configuration: defaults, file < environment < overrides, and one line per bad setting.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { loadServerConfig } from "../../src/server/index.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-config-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAirlockError(err, "CONFIG_INVALID"), String(err));
    return err.details as string[];
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("server config", () => {
  it("has defaults, including a 50 MiB log cap and a public URL from the listen address", () => {
    const c = loadServerConfig({ env: {} });
    assert.equal(c.logCapBytes, 50 * 1024 * 1024);
    assert.equal(c.listenPort, 8420);
    assert.equal(c.publicUrl, "http://127.0.0.1:8420");
    assert.equal(c.databaseUrl, undefined);
    const wildcard = loadServerConfig({ env: { AIRLOCK_HOST: "0.0.0.0", AIRLOCK_PORT: "9000" } });
    assert.equal(wildcard.publicUrl, "http://localhost:9000");
  });

  it("reads a YAML or JSON file; the environment wins over it, overrides over both", async () => {
    const yamlFile = join(dir, "airlock.yaml");
    await writeFile(yamlFile, "listenPort: 7000\npublicUrl: https://ci.example.test/\nleaseMs: 60000\n");
    const c = loadServerConfig({
      file: yamlFile,
      env: { AIRLOCK_LEASE_MS: "45000", DATABASE_URL: "postgres://db/x" },
    });
    assert.equal(c.listenPort, 7000);
    assert.equal(c.publicUrl, "https://ci.example.test");
    assert.equal(c.leaseMs, 45000);
    assert.equal(c.databaseUrl, "postgres://db/x");
    const jsonFile = join(dir, "airlock.json");
    await writeFile(jsonFile, JSON.stringify({ maxAttempts: 5, logCapBytes: 2048 }));
    const j = loadServerConfig({
      file: jsonFile,
      env: { AIRLOCK_MAX_ATTEMPTS: "7" },
      overrides: { logCapBytes: 4096 },
    });
    assert.equal(j.maxAttempts, 7);
    assert.equal(j.logCapBytes, 4096);
  });

  it("reports one line per bad setting, naming it", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "listenPort: 70000\nfrobnicate: true\nlogLevel: loud\n");
    const lines = problems(() =>
      loadServerConfig({
        file,
        env: {
          AIRLOCK_PORT: "x",
          AIRLOCK_PUBLIC_URL: "ftp://nope",
          AIRLOCK_MAX_ATTEMPTS: "0",
          DATABASE_URL: "mysql://a",
        },
      }),
    );
    assert.equal(lines.length, 7, lines.join("\n"));
    const named = (prefix: string): string | undefined => lines.find((l) => l.startsWith(prefix));
    assert.ok(named(`${file}: listenPort:`));
    assert.ok(named(`${file}: frobnicate:`));
    assert.ok(named(`${file}: logLevel:`));
    assert.equal(named("AIRLOCK_PORT:"), "AIRLOCK_PORT: expected an integer 0-65535, got 'x'");
    assert.ok(named("AIRLOCK_PUBLIC_URL:"));
    assert.ok(named("AIRLOCK_MAX_ATTEMPTS:"));
    assert.ok(named("DATABASE_URL:"));
    assert.ok(lines.every((l) => !l.includes("\n")));
  });

  it("refuses a heartbeat too close to the lease, and an unreadable file", () => {
    const lines = problems(() =>
      loadServerConfig({ env: { AIRLOCK_LEASE_MS: "2000", AIRLOCK_HEARTBEAT_MS: "1500" } }),
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^heartbeatMs:/);
    const missing = problems(() => loadServerConfig({ file: join(dir, "absent.yaml"), env: {} }));
    assert.equal(missing.length, 1);
  });
});
