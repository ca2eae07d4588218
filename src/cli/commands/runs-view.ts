// Human views of runs: the list table and the detail of one run (jobs, where they run or why
// they wait, and their steps).
import type { Job, Run, RunDetail, RunSummary } from "../api/index.js";
import { duration, list, status, table, time } from "./table.js";

/** "main", "v1.2" or the full ref when it is neither a branch nor a tag. */
export const shortRef = (ref: string): string => ref.replace(/^refs\/(heads|tags)\//, "");

/** "#3 push main@abc1234" */
export const runLabel = (r: RunSummary): string =>
  `#${r.number} ${r.event} ${shortRef(r.ref)}${r.commit ? `@${r.commit.slice(0, 7)}` : ""}`;

export function runsTable(runs: Run[]): string {
  return table(
    ["ID", "REPOSITORY", "RUN", "STATUS", "TRIGGER", "CREATED", "DURATION", "TITLE"],
    runs.map((r) => [
      r.id,
      r.repository,
      runLabel(r),
      status(r.state, r.conclusion),
      r.actor ? `${r.trigger} by ${r.actor}` : r.trigger,
      time(r.createdAt),
      duration(r.startedAt, r.finishedAt),
      r.title,
    ]),
  );
}

const STEP_MARK: Record<string, string> = {
  success: "✓",
  failure: "✗",
  cancelled: "✗",
  skipped: "-",
};

/** Where a job is or why it is not running yet, in one phrase. */
export function jobWhere(j: Job): string {
  if (j.state === "queued") return j.waitReason ? `waiting: ${j.waitReason}` : "waiting for a node";
  return j.node ? `on ${j.node}` : "";
}

export function jobLines(j: Job): string {
  const matrix = j.matrix && Object.keys(j.matrix).length > 0 ? ` ${JSON.stringify(j.matrix)}` : "";
  const attempt = j.attempt > 1 ? `, delivery ${j.attempt}` : "";
  const where = jobWhere(j);
  let out = `Job ${j.id}  ${j.name}${matrix}  ${status(j.state, j.conclusion)}${where ? `  ${where}` : ""}${attempt}\n`;
  const facts = [
    j.labels.length > 0 ? `labels ${list(j.labels)}` : "",
    j.image ? `image ${j.image}` : "",
    j.flavour ? `flavour ${j.flavour}` : "",
    j.startedAt ? `took ${duration(j.startedAt, j.finishedAt)}` : "",
    j.logTruncated ? "log truncated" : "",
  ].filter(Boolean);
  if (facts.length > 0) out += `  ${facts.join(" · ")}\n`;
  if (j.reusedFrom) out += `  result kept from job ${j.reusedFrom} of an earlier attempt (not run again)\n`;
  if (j.error) out += `  error: ${j.error}\n`;
  for (const s of j.steps) {
    const mark = (s.conclusion && STEP_MARK[s.conclusion]) ?? (s.startedAt ? "▶" : "·");
    const stage = s.stage && s.stage !== "main" ? `${s.stage}: ` : "";
    out += `  ${mark} ${stage}${s.name}  ${s.conclusion ?? (s.startedAt ? "running" : "pending")}`;
    out += s.startedAt && s.finishedAt ? ` [${duration(s.startedAt, s.finishedAt)}]\n` : "\n";
  }
  return out;
}

export function runDetail(r: RunDetail): string {
  let out = `Run ${r.id} · ${r.repository} ${runLabel(r)} · ${status(r.state, r.conclusion)}\n`;
  if (r.title) out += `Title:    ${r.title}\n`;
  // Older servers send no workflow name: say nothing then.
  if (r.workflowName)
    out += `Workflow: ${r.workflowName}${r.workflowFile && r.workflowFile !== r.workflowName ? ` (${r.workflowFile})` : ""}\n`;
  out += `Trigger:  ${r.trigger}${r.actor ? ` by ${r.actor}` : ""}\n`;
  // Older servers send no tier: say nothing then.
  if (r.trustTier === "untrusted") {
    out += `Trust:    untrusted`;
    if (r.approval === "required")
      out += ` · ${r.approvalReason ?? "waiting for approval"} (airlock runs approve ${r.id})`;
    else if (r.approval) out += ` · ${r.approval}${r.approvedBy ? ` by ${r.approvedBy}` : ""}`;
    out += "\n";
  }
  // Older servers send no wait reason: say nothing then.
  if (r.waitReason) out += `Waiting:  ${r.waitReason}\n`;
  out += `Created:  ${time(r.createdAt)}`;
  if (r.startedAt) out += `   started ${time(r.startedAt)}`;
  if (r.finishedAt) out += `   finished ${time(r.finishedAt)} (${duration(r.startedAt, r.finishedAt)})`;
  out += "\n";
  if (r.error) out += `Error:    ${r.error}\n`;
  // Older servers send nothing: say nothing then.
  if (r.artifactMismatchAt)
    out += `Integrity: independent builds of its artifacts DIFFER (quarantined; airlock artifacts mismatches ${r.id})\n`;
  // Older servers send no attempts: say nothing then.
  if (r.attempts && r.attempts.length > 1) {
    out += `Attempts: ${r.attempts.length} (jobs of attempt ${r.shownAttempt} below; --attempt N for another)\n`;
    for (const a of r.attempts) {
      const what =
        a.attempt === 1
          ? "run"
          : a.mode === "failed"
            ? "re-run of failed jobs"
            : a.mode === "job"
              ? `re-run of job ${a.job ?? "?"}`
              : "re-run of all jobs";
      const who = a.triggeringActor ? ` by ${a.triggeringActor}` : "";
      out += `  #${a.attempt} ${status(a.state, a.conclusion)}  ${what}${who}  ${time(a.createdAt)}\n`;
    }
  }
  // The commit status on the forge (none without a forge token; older servers send nothing).
  const f = r.forgeStatus;
  if (f) {
    const how = {
      sent: "sent",
      failed: "not delivered (gave up)",
      superseded: "replaced by a newer status",
      pending: "to be sent",
      sending: "being sent",
    }[f.delivery];
    out += `Forge:    ${f.context} ${f.phase} · ${how}${f.attempts > 1 ? ` after ${f.attempts} attempts` : ""}`;
    out += f.lastError && f.delivery !== "sent" ? ` · ${f.lastError}\n` : "\n";
  }
  if (r.jobs.length === 0) return out + "\nNo jobs.\n";
  return out + "\n" + r.jobs.map(jobLines).join("\n");
}
