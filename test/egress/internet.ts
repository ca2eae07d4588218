// A test "internet" that is NOT this host's loopback: a network namespace joined to the host by
// a veth pair, holding a host at a TEST-NET address with an HTTP server (:80), a TLS server
// (:443, self-signed certificate for *.test.example, CA file given back) and a bare git repository
// served over both; plus a real DNS server (UDP, on the host's loopback, for the proxy only)
// answering the test names. Needs root and iproute2. Everything is removed by stop(), and by an
// exit hook if a test dies first.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startDnsServer, type DnsServer } from "./dns-server.js";

export interface Internet {
  /** The test host's address (reachable from this host, not a local address). */
  serverIp: string;
  /** This host's end of the link (a local address: the proxy refuses it). */
  hostIp: string;
  dns: DnsServer;
  /** PEM file of the TLS server's certificate (trust it with curl --cacert / GIT_SSL_CAINFO). */
  caFile: string;
  /** Folder holding the certificate (copy it into machines). */
  dir: string;
  stop(): Promise<void>;
}

export const canRunNetns = process.getuid?.() === 0 && hasIp();

function hasIp(): boolean {
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const ip = (...args: string[]): void => void execFileSync("ip", args, { stdio: "ignore" });

/**
 * `net` is the network address of a /26 inside a TEST-NET range, e.g. "198.51.100.64" (one per
 * test file, so files can run in parallel; 192.0.2.0/24 may be a real network, as on this CI host).
 */
export async function startInternet(net: string, names: Record<string, string[]>): Promise<Internet> {
  removeStale();
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString("hex")}`;
  const ns = `airlock-egt-${process.pid}-${tag}`;
  const vh = `aeh${tag}`.slice(0, 15);
  const vn = `aen${tag}`.slice(0, 15);
  const [a, b, c, d] = net.split(".").map(Number);
  const hostIp = `${a}.${b}.${c}.${d! + 1}`;
  const serverIp = `${a}.${b}.${c}.${d! + 2}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-egress-net-"));
  let server: ChildProcess | undefined;
  let dns: DnsServer | undefined;
  const cleanup = (): void => {
    server?.kill("SIGKILL");
    for (const args of [
      ["link", "del", vh],
      ["netns", "del", ns],
    ]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  try {
    ip("netns", "add", ns);
    ip("link", "add", vh, "type", "veth", "peer", "name", vn);
    ip("link", "set", vn, "netns", ns);
    ip("addr", "add", `${hostIp}/26`, "dev", vh);
    ip("link", "set", vh, "up");
    ip("-n", ns, "addr", "add", `${serverIp}/26`, "dev", vn);
    ip("-n", ns, "link", "set", vn, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    const caFile = path.join(dir, "cert.pem");
    const keyFile = path.join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test.example",
        "-addext",
        "subjectAltName=DNS:*.test.example,DNS:test.example",
        "-keyout",
        keyFile,
        "-out",
        caFile,
      ],
      { stdio: "ignore" },
    );
    const gitDir = makeGitRepo(dir);
    const script = fileURLToPath(new URL("./fixtures/internet-server.js", import.meta.url));
    server = spawn("ip", ["netns", "exec", ns, process.execPath, script, serverIp, caFile, keyFile, gitDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.once("data", () => resolve());
      server!.once("exit", (c) => reject(new Error(`internet server exited (${c})`)));
    });
    const records = Object.fromEntries(
      Object.entries(names).map(([n, addrs]) => [n, addrs.map((a) => (a === "SERVER" ? serverIp : a))]),
    );
    dns = await startDnsServer(records);
    const d = dns;
    return {
      serverIp,
      hostIp,
      dns: d,
      caFile,
      dir,
      async stop() {
        await d.close();
        cleanup();
        process.off("exit", cleanup);
      },
    };
  } catch (e) {
    await dns?.close();
    cleanup();
    process.off("exit", cleanup);
    throw e;
  }
}

/** A bare repository with one commit (file hello.txt), ready for dumb-HTTP clones at /git/repo.git. */
function makeGitRepo(dir: string): string {
  const work = path.join(dir, "work");
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t",
  };
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env, stdio: "ignore" });
  execFileSync("mkdir", ["-p", work]);
  git(work, "init", "-q", "-b", "main");
  execFileSync("sh", ["-c", "echo hello through the proxy > hello.txt"], { cwd: work });
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "one");
  const gitRoot = path.join(dir, "git");
  execFileSync("mkdir", ["-p", gitRoot]);
  git(dir, "clone", "-q", "--bare", work, path.join(gitRoot, "repo.git"));
  git(path.join(gitRoot, "repo.git"), "update-server-info");
  return gitRoot;
}

/** Namespaces left by test processes that died without cleaning up. */
function removeStale(): void {
  let list: string;
  try {
    list = execFileSync("ip", ["netns", "list"]).toString();
  } catch {
    return;
  }
  for (const m of list.matchAll(/^airlock-egt-(\d+)-(\S+)/gm)) {
    const pid = Number(m[1]);
    try {
      process.kill(pid, 0);
      continue; // still running
    } catch {
      // dead: remove
    }
    try {
      ip("link", "del", `aeh${m[2]}`.slice(0, 15));
    } catch {
      // gone
    }
    try {
      ip("netns", "del", `airlock-egt-${m[1]}-${m[2]}`);
    } catch {
      // gone
    }
  }
}
