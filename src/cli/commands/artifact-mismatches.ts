// `airlock artifacts mismatches <run>`: what differed when a run's independent builds disagreed
// (docs/integrity.md "Corroboration"): per quarantined artifact and differing rebuild, which node
// and operator built which digest, the entries only one side has, the changed entries, and the
// first differing bytes. Every name here came from a job: printed as text, control characters
// escaped, never interpreted.
import type { Command } from "commander";
import type { z } from "zod";
import type { MismatchList } from "../../server/schemas-artifacts.js";
import type { ApiClient } from "../api/index.js";
import { apiOptions, connect, idArgument, printJson, type CliIo, type CommonOptions } from "./context.js";

type Mismatch = z.infer<typeof MismatchList>[number];

export function runMismatches(c: ApiClient, runId: number): Promise<Mismatch[]> {
  return c.json("GET", `/api/v1/runs/${runId}/mismatches`);
}

/**
 * One line of job-made text: control characters (C0, C1) and the invisible ones that reorder or
 * hide text (bidi controls, zero-width) escaped as \uXXXX, cut at 200 characters.
 */
const invisible = (code: number): boolean =>
  code < 0x20 ||
  (code >= 0x7f && code <= 0x9f) ||
  (code >= 0x200b && code <= 0x200f) ||
  (code >= 0x2028 && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069) ||
  code === 0xfeff;
const text = (s: string): string =>
  [...(s.length > 200 ? `${s.slice(0, 200)}…` : s)]
    .map((c) => (invisible(c.charCodeAt(0)) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c))
    .join("");

const MAX_LISTED = 20;
function listed(label: string, paths: string[], total: number): string {
  if (total === 0) return "";
  const shown = paths.slice(0, MAX_LISTED).map(text).join(", ");
  const more = total > MAX_LISTED ? ` and ${total - MAX_LISTED} more` : "";
  return `  ${label}: ${shown}${more}\n`;
}

export function describeMismatch(m: Mismatch): string {
  const theirs = m.replicaArtifactId === null ? "" : ` (its artifact ${m.replicaArtifactId})`;
  let out = `Artifact "${text(m.name)}" (${m.artifactId ?? "removed"}) differs from rebuild job ${m.replicaJobId}${theirs}:\n`;
  for (const b of m.builds)
    out += `  job ${b.job} on ${text(b.node ?? "(deleted node)")} (${b.workerTrust}${b.operator ? `, ${text(b.operator)}` : ""}): ${b.sha256 ? `sha256 ${b.sha256}` : "no artifact"}\n`;
  if (m.note) out += `  ${text(m.note)}\n`;
  if (m.diff) {
    if (m.diff.identical)
      out +=
        "  same entries and contents: the archives differ in metadata only (file times? set them from SOURCE_DATE_EPOCH)\n";
    out += listed("only in the job's build", m.diff.onlyInA, m.diff.counts.onlyInA);
    out += listed("only in the rebuild", m.diff.onlyInB, m.diff.counts.onlyInB);
    out += listed(
      "changed",
      m.diff.changed.map((c) => c.path),
      m.diff.counts.changed,
    );
    const f = m.diff.firstDifference;
    if (f)
      out += `  first difference: ${text(f.path)} at byte ${f.offset}: ${f.a || "(end)"} vs ${f.b || "(end)"}\n`;
  }
  return out;
}

export function registerArtifactMismatches(artifacts: Command, io: CliIo): void {
  apiOptions(
    artifacts
      .command("mismatches")
      .description("what differed when a run's independent builds disagreed")
      .argument("<run>", "run id"),
  ).action(async (run: string, opts: CommonOptions) => {
    const runId = idArgument(run, "the run");
    const items = await runMismatches(await connect(opts, io), runId);
    if (opts.json) printJson(io, items);
    else
      io.stdout.write(
        items.length === 0
          ? `Run ${runId}: no independent builds disagreed.\n`
          : items.map(describeMismatch).join("\n"),
      );
  });
}
