// Runs one conformance case for real: the case folder (minus case.json) becomes a git
// repository with one commit on `main`, and the built `airlock run <event> --json` runs in it.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { runAirlock } from "../helpers/repo.js";
import {
  compareRefusal,
  compare,
  describeMismatches,
  type ConformanceCase,
  type Mismatch,
  type RunDocument,
} from "./corpus.js";

export interface CaseResult {
  name: string;
  /** True when every expectation held. */
  match: boolean;
  mismatches: Mismatch[];
  /** Why there is no comparison at all (timeout, no JSON on stdout), if so. */
  error?: string;
  /** The tail of the run's log (stderr), for diagnosing a mismatch. */
  logTail: string;
}

function makeCaseRepo(c: ConformanceCase): string {
  const dir = mkdtempSync(join(tmpdir(), `airlock-conformance-${c.name}-`));
  cpSync(c.dir, dir, { recursive: true, filter: (src) => basename(src) !== "case.json" || src === c.dir });
  const git = (...args: string[]): void => {
    execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  };
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=Conformance", "-c", "user.email=conformance@airlock.invalid", "commit", "-qm", c.name);
  return dir;
}

export async function runCase(c: ConformanceCase, timeoutMs: number): Promise<CaseResult> {
  const dir = makeCaseRepo(c);
  try {
    const args = ["run", c.event, "--json"];
    if (c.eventPayload) args.push("--event-path", join(c.dir, c.eventPayload));
    for (const [name, value] of Object.entries(c.inputs ?? {})) args.push("--input", `${name}=${value}`);
    const started = Date.now();
    const res = await runAirlock(dir, args, {}, timeoutMs);
    const logTail = res.stderr.split("\n").slice(-40).join("\n");
    if (res.code === null) {
      const error = `no result within ${Math.round((Date.now() - started) / 1000)} s (limit ${timeoutMs / 1000} s)`;
      return { name: c.name, match: false, mismatches: [], error, logTail };
    }
    if (c.refused !== undefined) {
      const mismatches = compareRefusal(c.refused, res.code, res.stdout, res.stderr);
      return { name: c.name, match: mismatches.length === 0, mismatches, logTail };
    }
    let doc: RunDocument;
    try {
      doc = JSON.parse(res.stdout) as RunDocument;
    } catch {
      const error = `exit code ${res.code} without a JSON report`;
      return { name: c.name, match: false, mismatches: [], error, logTail };
    }
    const mismatches = compare(c, doc);
    return { name: c.name, match: mismatches.length === 0, mismatches, logTail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function summarise(r: CaseResult): string {
  return r.error ?? describeMismatches(r.mismatches);
}

/** Runs tasks with at most `limit` in flight; each result promise settles with its own task. */
export function createPool(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
