// The conformance corpus: loading the case folders under cases/ and comparing an
// `airlock run --json` document with a case's expected job conclusions. Pure functions, so the
// comparison rules are tested on their own (compare.test.ts) without running any workflow.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type Conclusion = "success" | "failure" | "skipped" | "cancelled";
const CONCLUSIONS: readonly string[] = ["success", "failure", "skipped", "cancelled"];

export interface ConformanceCase {
  /** Folder name under cases/. */
  name: string;
  /** Absolute path of the folder: the repository files plus case.json. */
  dir: string;
  source: string;
  licence: string;
  event: string;
  /** Payload file (relative to the case folder) passed as --event-path, if any. */
  eventPayload?: string;
  /** workflow_dispatch inputs given with --input name=value, if any. */
  inputs?: Record<string, string>;
  /**
   * Key → conclusion. A key is a job id (the conclusion of every job instance with that id taken
   * together: a matrix job as a whole, see aggregate()) or, when no job has that id, a display
   * name such as "build (linux, 18)" naming one matrix leg.
   */
  expected: Record<string, Conclusion>;
  /** Expected conclusion of the whole run, when the case states one. */
  conclusion?: "success" | "failure";
  /**
   * GitHub refuses the workflow file before any job runs: each entry is a `file:line:col`
   * position GitHub reports a problem at; `expected` is then empty.
   */
  refused?: string[];
  why: string;
}

/** The subset of the `--json` document the corpus reads. */
export interface RunDocument {
  conclusion: string;
  jobs: Array<{ id: string; name: string; conclusion: string }>;
}

export interface Mismatch {
  key: string;
  expected: string;
  actual: string;
}

export function loadCases(casesDir: string): ConformanceCase[] {
  return readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(casesDir, d.name, "case.json")))
    .map((d) => d.name)
    .sort()
    .map((name) => parseCase(name, join(casesDir, name)));
}

function parseCase(name: string, dir: string): ConformanceCase {
  const raw = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as Record<string, unknown>;
  const str = (k: string): string => {
    const v = raw[k];
    if (typeof v !== "string" || v === "")
      throw new Error(`${name}/case.json: '${k}' must be a non-empty string`);
    return v;
  };
  const expected = raw.expected;
  const refused = raw.refused;
  if (
    refused !== undefined &&
    (!Array.isArray(refused) ||
      refused.length === 0 ||
      !refused.every((r) => typeof r === "string" && /^[^:]+:\d+:\d+$/.test(r)))
  )
    throw new Error(`${name}/case.json: 'refused' must list file:line:col positions`);
  if (
    typeof expected !== "object" ||
    expected === null ||
    (Object.keys(expected).length === 0) !== (refused !== undefined)
  )
    throw new Error(`${name}/case.json: 'expected' must map job ids to conclusions (empty when refused)`);
  for (const [k, v] of Object.entries(expected)) {
    if (typeof v !== "string" || !CONCLUSIONS.includes(v))
      throw new Error(`${name}/case.json: expected['${k}'] must be one of ${CONCLUSIONS.join(", ")}`);
  }
  const c: ConformanceCase = {
    name,
    dir,
    source: str("source"),
    licence: str("licence"),
    event: str("event"),
    expected: expected as Record<string, Conclusion>,
    why: str("why"),
  };
  if (raw.eventPayload !== undefined) c.eventPayload = str("eventPayload");
  if (raw.inputs !== undefined) {
    const inputs = raw.inputs;
    if (
      typeof inputs !== "object" ||
      inputs === null ||
      Array.isArray(inputs) ||
      !Object.values(inputs).every((v) => typeof v === "string")
    )
      throw new Error(`${name}/case.json: 'inputs' must map input names to strings`);
    c.inputs = inputs as Record<string, string>;
  }
  if (raw.conclusion === "success" || raw.conclusion === "failure") c.conclusion = raw.conclusion;
  else if (raw.conclusion !== undefined) throw new Error(`${name}/case.json: bad 'conclusion'`);
  if (refused !== undefined) c.refused = refused as string[];
  return c;
}

/**
 * The conclusion of several instances of one job (matrix legs) taken together, as GitHub
 * reports it in needs.<job>.result: any failure fails it, then any cancellation cancels it,
 * all skipped is skipped, otherwise success.
 */
export function aggregate(conclusions: string[]): string {
  if (conclusions.length === 0) return "missing";
  if (conclusions.length === 1) return conclusions[0] ?? "missing";
  if (conclusions.includes("failure")) return "failure";
  if (conclusions.includes("cancelled")) return "cancelled";
  if (conclusions.every((c) => c === "skipped")) return "skipped";
  return conclusions.every((c) => c === "success" || c === "skipped") ? "success" : "failure";
}

/** Every difference between the case's expectations and the run document; empty = match. */
export function compare(c: Pick<ConformanceCase, "expected" | "conclusion">, doc: RunDocument): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [key, expected] of Object.entries(c.expected)) {
    const byId = doc.jobs.filter((j) => j.id === key);
    const picked = byId.length > 0 ? byId : doc.jobs.filter((j) => j.name === key);
    const actual = picked.length === 0 ? "missing" : aggregate(picked.map((j) => j.conclusion));
    if (actual !== expected) out.push({ key, expected, actual });
  }
  if (c.conclusion !== undefined && doc.conclusion !== c.conclusion)
    out.push({ key: "(run)", expected: c.conclusion, actual: doc.conclusion });
  return out;
}

/**
 * A case GitHub refuses at load: the run must stop before any job (no JSON report, exit code 2)
 * and its log must name every expected `file:line:col` position.
 */
export function compareRefusal(refused: string[], code: number, stdout: string, stderr: string): Mismatch[] {
  if (stdout.trim() !== "" || code !== 2)
    return [{ key: "(workflow)", expected: "refused", actual: `ran (exit code ${code})` }];
  return refused
    .filter((pos) => !stderr.includes(`${pos}: `))
    .map((pos) => ({ key: pos, expected: "a problem", actual: "none" }));
}

export function describeMismatches(m: Mismatch[]): string {
  return m.map((x) => `${x.key}: expected ${x.expected}, got ${x.actual}`).join("; ");
}
