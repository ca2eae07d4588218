// A real git repository in a temp folder for the benchmarks (cloned by file path), and commits.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface BenchRepo {
  dir: string;
  head(): string;
  /** An empty commit on main; returns its id. */
  commit(message: string): string;
}

export function makeBenchRepo(dir: string, files: Record<string, string>): BenchRepo {
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]): string =>
    execFileSync("git", ["-c", "user.name=Bench", "-c", "user.email=bench@airlock.invalid", ...args], {
      cwd: dir,
      encoding: "utf8",
    }).trim();
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "initial commit");
  return {
    dir,
    head: () => git("rev-parse", "HEAD"),
    commit(message) {
      git("commit", "-q", "--allow-empty", "-m", message);
      return git("rev-parse", "HEAD");
    },
  };
}
