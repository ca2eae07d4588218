// Test helpers: real git repositories in temp folders, and the real `airlock` binary run on them.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOptions } from "../../src/config/index.js";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const airlockBin = join(projectRoot, "bin", "airlock.js");

export interface TempRepo {
  dir: string;
  remove(): void;
}

/** A git repository with one commit on `main` holding `files` (and/or a copy of `fromDir`). */
export function makeRepo(files: Record<string, string> = {}, fromDir?: string): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), "airlock-repo-"));
  if (fromDir) cpSync(fromDir, dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]): void => {
    execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  };
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=Test", "-c", "user.email=test@airlock.invalid", "commit", "-qm", "initial commit");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AirlockResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `airlock <args>` in cwd, with AIRLOCK_HOME in a shared temp folder unless given, and the
 * node's image store of this process (scripts/test.sh builds debian-12 there before the tests).
 */
export function runAirlock(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<AirlockResult> {
  return new Promise((resolvePromise, reject) => {
    // `--` as bin/airlock does: Node would otherwise read a `--env-file` argument itself.
    const child = spawn(process.execPath, ["--", airlockBin, ...args], {
      cwd,
      env: {
        ...process.env,
        AIRLOCK_HOME: join(tmpdir(), "airlock-test-home"),
        AIRLOCK_IMAGES_DIR: loadOptions().imagesDir,
        NO_COLOR: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
