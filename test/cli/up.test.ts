// `airlock up` end to end (embedded PostgreSQL, a real sandbox on the debian-12 image): its local
// node registers through the registration-token path with the secret handed over in-process, so
// no command it starts carries a node token. Every git command it runs goes through a logging shim
// on PATH; every process under it is also looked at (command line and environment) while it runs.
// A second start reuses the saved credential (0600), which the connection replaces.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOptions } from "../../src/config/index.js";
import { airlockBin } from "../helpers/repo.js";

const root = mkdtempSync(join(tmpdir(), "airlock-up-"));
chmodSync(root, 0o755); // the embedded PostgreSQL's own user must reach its data folder
after(() => rmSync(root, { recursive: true, force: true }));

const SECRET = /alk_(reg|node)_/;

/** Pids of `pid`'s descendants now. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone already
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, ppid] of parent) {
      if (ppid !== p || out.includes(child)) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Runs `airlock up --exit`; resolves with its exit code, output and what its processes carried. */
function up(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; seen: string[] }> {
  const child = spawn(process.execPath, [airlockBin, "up", "--exit", "--port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const seen: string[] = [];
  const look = (): void => {
    for (const pid of descendants(child.pid ?? -1)) {
      for (const what of ["cmdline", "environ"]) {
        try {
          seen.push(readFileSync(`/proc/${pid}/${what}`, "latin1").replaceAll("\0", " "));
        } catch {
          // gone, or not ours to read
        }
      }
    }
  };
  const timer = setInterval(look, 25);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearInterval(timer);
      resolve({ code, out, seen });
    }),
  );
}

describe("airlock up", () => {
  it("registers its local node without a token on any command line, then reuses the credential", async () => {
    const shims = join(root, "shims");
    const gitLog = join(root, "git-argv.log");
    const realGit = ["/usr/bin/git", "/usr/local/bin/git", "/bin/git"].find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    assert.ok(realGit, "git is installed");
    mkdirSync(shims, { recursive: true });
    writeFileSync(
      join(shims, "git"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${gitLog}'\nexec '${realGit}' "$@"\n`,
      { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${shims}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      AIRLOCK_HOME: join(root, "home"),
      AIRLOCK_DATA_DIR: join(root, "data"),
      AIRLOCK_IMAGES_DIR: loadOptions().imagesDir,
      AIRLOCK_LOG_LEVEL: "warn",
    };
    delete env.AIRLOCK_DATABASE_URL;
    delete env.DATABASE_URL;

    const first = await up(env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /run \d+: success/);
    // The web UI's address, and each run's page in it.
    assert.match(first.out, /^Web UI: http:\/\/[^ ]+\/ /m);
    assert.match(first.out, /^ {2}run (\d+): http:\/\/[^ ]+\/runs\/\1 {2}\(API: /m);
    const gitCalls = readFileSync(gitLog, "utf8");
    assert.ok(gitCalls.length > 0, "git ran through the shim");
    assert.doesNotMatch(gitCalls, SECRET);
    assert.ok(first.seen.length > 0, "processes under `up` were looked at");
    for (const s of first.seen) assert.doesNotMatch(s, SECRET);
    assert.doesNotMatch(first.out, SECRET, "no node token printed");

    const file = join(root, "data", "agent", "node-credential");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, "data", "agent")).mode & 0o777, 0o700);
    const saved = readFileSync(file, "utf8").trim();

    const second = await up(env);
    assert.equal(second.code, 0, second.out);
    const replaced = readFileSync(file, "utf8").trim();
    assert.match(replaced, /^alk_node_/);
    assert.notEqual(replaced, saved, "the second start's connection replaced the credential");
    for (const s of second.seen) assert.doesNotMatch(s, SECRET);
  });
});
