// `airlock agent` as a process: registers with the token from the environment (its credential saved
// 0600), says hello with the offered provisioners and capacity overrides, runs a job, and exits 0
// on SIGTERM. Bad options — and any secret on the command line — stop it with a USAGE error
// before anything connects.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { agentCommand } from "../../src/cli/agent.js";
import { FakeServer } from "./fake-server.js";
import { makeRepo } from "../helpers/repo.js";
import { assignMsg, logTexts, tempDir, waitFor } from "./helpers.js";

const tmp = tempDir("airlock-agent-cli-");
after(() => tmp.remove());
const root = fileURLToPath(new URL("../..", import.meta.url));

describe("airlock agent (CLI)", () => {
  it("runs until SIGTERM, then exits 0", async () => {
    const server = await new FakeServer({ registration: "alk_reg_cli" }).start();
    const repo = makeRepo({ "hello.txt": "hello from the repository\n" });
    const script = `
      import { agentCommand } from "./src/cli/agent.ts";
      process.exitCode = await agentCommand({
        server: ${JSON.stringify(server.url)}, label: ["cli"], provisioner: ["fake"],
        cpus: "3", dataDir: ${JSON.stringify(`${tmp.dir}/data`)},
      });`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      env: { ...process.env, AIRLOCK_REGISTRATION_TOKEN: "alk_reg_cli", AIRLOCK_HOME: `${tmp.dir}/home` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const hello = await waitFor("hello", () => server.ofType("hello")[0]);
      assert.deepEqual(server.exchanges, [201]);
      assert.deepEqual(server.authorizations, ["Bearer good-token"]);
      assert.equal(statSync(`${tmp.dir}/data/node-credential`).mode & 0o777, 0o600);
      assert.deepEqual(hello.node.provisioners, ["fake"]);
      assert.deepEqual(hello.node.labels, ["cli"]);
      assert.equal(hello.node.cpus, 3);
      // The real git workspace source is wired in: the job sees the repository at its commit.
      const msg = assignMsg(1, `      - run: cat hello.txt\n`);
      const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
      msg.job.source = { repository: repo.dir, commit, ref: "refs/heads/main", repositoryName: "octo/repo" };
      server.send(msg);
      const done = await waitFor("finished", () => server.ofType("finished")[0]);
      assert.equal(done.result.conclusion, "success");
      assert.ok(logTexts(server.outputOf(1)).includes("hello from the repository"));
      child.kill("SIGTERM");
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /"msg":"agent started"/);
    } finally {
      child.kill("SIGKILL");
      await server.close();
      repo.remove();
    }
  });

  it("refuses a token on the command line, no way to register, a bad address and a bad number with USAGE", async () => {
    const base = {
      server: "http://127.0.0.1:1",
      label: [],
      provisioner: ["fake"],
      dataDir: `${tmp.dir}/usage`,
    };
    const env = { AIRLOCK_HOME: `${tmp.dir}/home` };
    await assert.rejects(agentCommand({ ...base, token: "alk_reg_x" }, env), {
      code: "USAGE",
      message: /--token is refused .*ps.*--registration-token-file/,
    });
    await assert.rejects(agentCommand(base, { ...env, AIRLOCK_AGENT_TOKEN: "x" }), {
      code: "USAGE",
      message: /AIRLOCK_REGISTRATION_TOKEN/,
    });
    await assert.rejects(agentCommand(base, env), { code: "USAGE", message: /no node credential/ });
    await assert.rejects(agentCommand({ ...base, registrationTokenFile: `${tmp.dir}/nope` }, env), {
      code: "USAGE",
      message: /--registration-token-file/,
    });
    await assert.rejects(agentCommand({ ...base, server: "ftp://x" }, env), {
      code: "USAGE",
      message: /--server/,
    });
    await assert.rejects(agentCommand({ ...base, memoryMb: "lots" }, env), {
      code: "USAGE",
      message: /--memory-mb/,
    });
    await assert.rejects(agentCommand({ ...base, containerAllowOption: ["privileged"] }, env), {
      code: "USAGE",
      message: /--container-allow-option/,
    });
    for (const bad of [
      { containerRegistry: "https://registry.example" },
      { containerRegistry: "registry.example/../x" },
      { containerRegistryCertDir: tmp.dir },
      { containerRegistry: "registry.example:5000/ci", containerRegistryCertDir: `${tmp.dir}/no-ca` },
    ]) {
      await assert.rejects(agentCommand({ ...base, ...bad }, env), {
        code: "USAGE",
        message: /--container-registry/,
      });
    }
    await assert.rejects(agentCommand({ ...base, provisioner: ["jail"] }, env), {
      code: "USAGE",
      message: /provisioner/,
    });
    for (const warmSlots of ["-1", "two", "1.5"]) {
      await assert.rejects(agentCommand({ ...base, warmSlots }, env), {
        code: "USAGE",
        message: /--warm-slots/,
      });
    }
  });
});
