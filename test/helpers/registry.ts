// A real container registry on loopback (Debian's docker-registry, distribution 2.8) for the
// container provisioner's pull tests: its own config, a fresh self-signed TLS certificate
// (openssl) and an htpasswd (bcrypt) file in a temp folder, a random high port, nothing from the
// host's /etc/docker/registry. Clients trust it through `certDir` (podman --cert-dir: ca.crt),
// never by turning TLS verification off. The password goes to htpasswd and podman on stdin or in
// a private auth file, never in an argv. Needs root only for podman (rootful, as Airlock runs it).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface TestRegistry {
  /** host:port, as an image reference names it (127.0.0.1:<port>). */
  host: string;
  /** A folder holding ca.crt: podman --cert-dir / the provisioner's registryCertDir. */
  certDir: string;
  username: string;
  password: string;
  /**
   * Pushes the local image `local` as `<host>/<name>` with the registry's credentials, then
   * removes that local tag again (so a pull really goes to the registry). Returns the full ref.
   */
  push(local: string, name: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** GET https://<host>/v2/ trusting only `ca`: its status (0 when nothing answers). */
function v2Status(host: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(`https://${host}/v2/`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", () => resolve(0));
    req.once("timeout", () => req.destroy());
  });
}

/** Resolves once /v2/ answers 401 over TLS with our CA (a safety-net deadline of ~15 s). */
async function answering(host: string, ca: Buffer, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    if ((await v2Status(host, ca)) === 401) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"];

export async function startRegistry(username = "airlock-ci"): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const password = `reg-${randomBytes(12).toString("hex")}`;
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
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
      "/CN=airlock-test-registry",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const certDir = path.join(dir, "certs");
  mkdirSync(certDir);
  copyFileSync(cert, path.join(certDir, "ca.crt"));
  // -i: the password from stdin; -B: bcrypt (the only scheme distribution accepts).
  const htpasswd = execFileSync("htpasswd", ["-niB", username], { input: `${password}\n`, encoding: "utf8" });
  writeFileSync(path.join(dir, "htpasswd"), htpasswd, { mode: 0o600 });
  const config = path.join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      `  secret: ${randomBytes(16).toString("hex")}`,
      "  tls:",
      `    certificate: ${cert}`,
      `    key: ${key}`,
      "auth:",
      "  htpasswd:",
      "    realm: airlock-test",
      `    path: ${path.join(dir, "htpasswd")}`,
      "",
    ].join("\n"),
  );
  let log = "";
  // A clean environment: REGISTRY_* variables would override the config.
  const proc = spawn(REGISTRY_BIN, ["serve", config], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: "/usr/bin:/bin" },
  });
  proc.stderr?.on("data", (b: Buffer) => {
    if (log.length < 8192) log += b.toString();
  });
  try {
    await answering(host, readFileSync(cert), proc, () => log.trim().split("\n").slice(-3).join(" | "));
  } catch (e) {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const authFile = path.join(dir, "auth.json");
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
  const podman = (args: string[]): void => {
    execFileSync("podman", [...PODMAN_GLOBAL, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, REGISTRY_AUTH_FILE: authFile },
    });
  };
  return {
    host,
    certDir,
    username,
    password,
    push(local, name) {
      const ref = `${host}/${name}`;
      podman(["tag", local, ref]);
      try {
        // zstd: a local push of the debian-12 image without a gzip minute.
        podman(["push", "--quiet", "--cert-dir", certDir, "--compression-format", "zstd", ref]);
      } finally {
        podman(["untag", local, ref]);
      }
      return ref;
    },
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The debian-12 job image as a podman image (imported once, kept: ~15 s), as the e2e tests use it. */
export const BASE_IMAGE = "localhost/airlock-test/debian-12:latest";

export async function ensureBaseImage(): Promise<string> {
  try {
    execFileSync("podman", [...PODMAN_GLOBAL, "image", "exists", BASE_IMAGE]);
    return BASE_IMAGE;
  } catch {
    // not there yet
  }
  const { jobImageRootfs } = await import("./job-image.js");
  const tar = spawn("tar", ["-C", jobImageRootfs(), "--numeric-owner", "-c", "."], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const imp = spawn("podman", [...PODMAN_GLOBAL, "import", "-", BASE_IMAGE], {
    stdio: ["pipe", "ignore", "inherit"],
  });
  tar.stdout.pipe(imp.stdin);
  const code = await new Promise<number | null>((r) => imp.once("close", r));
  if (code !== 0) throw new Error(`podman import exited ${code}`);
  return BASE_IMAGE;
}

/**
 * Builds `tag` FROM the base image with extra Dockerfile lines and `files` in the build context
 * (no RUN: nothing runs on the host).
 */
export function buildFromBase(tag: string, lines: string[], files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-build-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    writeFileSync(path.join(dir, "Dockerfile"), [`FROM ${BASE_IMAGE}`, ...lines, ""].join("\n"));
    execFileSync("podman", [...PODMAN_GLOBAL, "build", "--quiet", "--format", "docker", "-t", tag, dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}
