// A real OpenSSH server on loopback (the SSH provisioner's tests and bench:provisioners): its own sshd_config, freshly
// generated host key and authorized_keys in a temp folder, a random high port, and a dedicated
// unprivileged user (created if missing, password locked with '*' so key login works). Needs root.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const TEST_USER = "airlock-ssh-test";

export interface Sshd {
  dir: string;
  port: number;
  user: string;
  /** The user's home folder on the host. */
  home: string;
  /** Client private key (owned by the test's user). */
  identity: string;
  /** The current host public key line ("ssh-ed25519 AAAA... comment"). */
  hostKey(): string;
  /** Stops sshd, makes a NEW host key and starts it again on the same port. */
  rekey(): Promise<void>;
  stop(): Promise<void>;
}

export function ensureTestUser(): void {
  try {
    execFileSync("id", ["-u", TEST_USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["--create-home", "--shell", "/bin/sh", TEST_USER]);
  }
  execFileSync("usermod", ["-p", "*", TEST_USER]);
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Resolves once the port accepts and says SSH-2.0 (a safety-net deadline of ~10 s). */
async function banner(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("SSH-2.0"));
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("sshd did not start");
}

export async function startSshd(): Promise<Sshd> {
  ensureTestUser();
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-sshd-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const hostKeyFile = path.join(dir, "host_ed25519");
  const identity = path.join(dir, "client_ed25519");
  const keygen = (file: string): void => {
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "airlock-test", "-f", file]);
  };
  keygen(hostKeyFile);
  keygen(identity);
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(`${identity}.pub`), { mode: 0o644 });
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      `AllowUsers ${TEST_USER}`,
      "MaxStartups 100:30:200",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: "ignore" });
    await banner(port);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await gone;
  };
  await start();
  return {
    dir,
    port,
    user: TEST_USER,
    home: execFileSync("getent", ["passwd", TEST_USER], { encoding: "utf8" }).split(":")[5]!,
    identity,
    hostKey: () => readFileSync(`${hostKeyFile}.pub`, "utf8").trim(),
    async rekey() {
      await stop();
      keygen(hostKeyFile);
      await start();
    },
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
