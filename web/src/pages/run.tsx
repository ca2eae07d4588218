// The run page: header (workflow, title, repository, trigger, commit, trust tier, status,
// attempts), the job graph with each job's live state and wait reason, the actions the user may
// take (cancel, re-run all / failed jobs, approve or reject an untrusted run, review environment
// deployments), annotations linking to their log lines, and the jobs' step summaries as sanitized
// Markdown. Polls while the run is not completed: states change without a reload.
import { useLocation, useRoute } from "preact-iso";
import type { RunDetail } from "../../../src/orchestrator/views/runs.js";
import type { Job } from "../../../src/orchestrator/views/jobs.js";
import { post, withQuery } from "../api.js";
import { useApi, usePermissions, useTitle } from "../hooks.js";
import { ActionButton, Ago, ErrorLine, NotFound, Section, Status } from "../components/ui.js";
import { TrustTier, firstLine, refName, runDuration, shortSha } from "../components/run-bits.js";
import { JobGraph } from "../components/job-graph.js";
import { Markdown } from "../components/markdown.js";

type Detail = RunDetail & { approvers?: { roles: string[]; youMay: boolean } | null };

interface Annotation {
  jobId: number;
  jobName: string;
  attempt: number;
  seq: number;
  level: "error" | "warning" | "notice";
  text: string;
}

interface Deployment {
  jobId: number;
  jobName: string;
  environment: string;
  state: "waiting" | "approved" | "rejected";
  reviewer: string | null;
  comment: string | null;
  createdAt: string;
  reviewedAt: string | null;
  approvers?: string;
  youMay?: boolean;
}

const POLL_MS = 2000;

function Header({ run, attempt }: { run: Detail; attempt: number }) {
  const { path } = useLocation();
  return (
    <section class="card run-head" data-testid="run-header">
      <div class="card-head">
        <Status state={run.state} conclusion={run.conclusion} />
        <h1 data-testid="run-title">{firstLine(run.title) || `${run.workflowName} #${run.number}`}</h1>
      </div>
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>
          {run.workflowName || run.workflowFile} #{run.number}{" "}
          <span class="muted mono small">{run.workflowFile}</span>
        </dd>
        <dt>Repository</dt>
        <dd>
          <a href={`/repos/${run.repositoryId}/runs`}>{run.repository}</a>
        </dd>
        <dt>Trigger</dt>
        <dd>
          {run.event}
          {run.trigger && run.trigger !== run.event && <span class="muted"> ({run.trigger})</span>} by{" "}
          {run.actor}
        </dd>
        <dt>Branch</dt>
        <dd class="mono branch" data-testid="run-branch">
          {refName(run)}
        </dd>
        <dt>Commit</dt>
        <dd class="mono" title={run.commit}>
          {shortSha(run.commit)}
        </dd>
        <dt>Trust</dt>
        <dd>
          <TrustTier tier={run.trustTier} />
        </dd>
        <dt>Started</dt>
        <dd>
          <Ago at={run.startedAt} /> · {runDuration(run)}
        </dd>
        {run.approvedBy && run.approval !== null && (
          <>
            <dt>{run.approval === "rejected" ? "Rejected by" : "Approved by"}</dt>
            <dd data-testid="run-approved-by">{run.approvedBy}</dd>
          </>
        )}
        {run.waitReason && (
          <>
            <dt>Waiting</dt>
            <dd data-testid="run-wait">{run.waitReason}</dd>
          </>
        )}
      </dl>
      {run.title.includes("\n") && <pre class="commit-message">{run.title}</pre>}
      {run.error && <ErrorLine error={run.error} />}
      {run.attempts.length > 1 && (
        <nav class="attempts" data-testid="attempts">
          Attempts:{" "}
          {run.attempts.map((a) => (
            <a
              key={a.attempt}
              href={withQuery(path, a.attempt === run.attempt ? {} : { attempt: a.attempt })}
              class={a.attempt === attempt ? "here" : ""}
              data-testid={`attempt-${a.attempt}`}
              title={`${a.mode === "failed" ? "failed jobs" : a.mode === "job" ? `job ${a.job ?? ""}` : "all jobs"}, by ${a.triggeringActor}`}
            >
              #{a.attempt} <Status state={a.state} conclusion={a.conclusion} />
            </a>
          ))}
        </nav>
      )}
    </section>
  );
}

function Actions({ run, perms, done }: { run: Detail; perms: Set<string>; done: (latest: boolean) => void }) {
  if (!perms.has("runs.write")) return null;
  const id = run.id;
  const failed = run.jobs.some(
    (j) => j.conclusion === "failure" || j.conclusion === "cancelled" || j.conclusion === "lost",
  );
  return (
    <div class="run-actions">
      {run.state !== "completed" && (
        <ActionButton
          label="Cancel run"
          danger
          confirm="Cancel every job of this run?"
          testId="cancel-run"
          action={() => post(`/runs/${id}/cancel`)}
          done={() => done(false)}
        />
      )}
      {run.state === "completed" && (
        <ActionButton
          label="Re-run all jobs"
          testId="rerun-all"
          action={() => post(`/runs/${id}/rerun`, {})}
          done={() => done(true)}
        />
      )}
      {run.state === "completed" && failed && (
        <ActionButton
          label="Re-run failed jobs"
          testId="rerun-failed"
          action={() => post(`/runs/${id}/rerun`, { failedOnly: true })}
          done={() => done(true)}
        />
      )}
    </div>
  );
}

function Approval({ run, perms, done }: { run: Detail; perms: Set<string>; done: () => void }) {
  if (run.approval !== "required" || run.state === "completed") return null;
  const roles = run.approvers?.roles ?? ["maintainer", "admin"];
  const may = run.approvers ? run.approvers.youMay : perms.has("runs.approve");
  return (
    <section class="card approval" data-testid="approval">
      <h2>Approval required</h2>
      <p>{run.approvalReason ?? "This run comes from an untrusted source and waits for a maintainer."}</p>
      <p class="muted">
        Who may approve: users with the role {roles.join(" or ")} on {run.repository} (signed in as a person,
        not a service token).
      </p>
      {may && (
        <div class="run-actions">
          <ActionButton
            label="Approve and run"
            testId="approve-run"
            action={() => post(`/runs/${run.id}/approve`)}
            done={done}
          />
          <ActionButton
            label="Reject"
            danger
            confirm="Reject this run? Its jobs will not run."
            testId="reject-run"
            action={() => post(`/runs/${run.id}/reject`)}
            done={done}
          />
        </div>
      )}
    </section>
  );
}

function Deployments({ runId, live, perms }: { runId: number; live: boolean; perms: Set<string> }) {
  const deps = useApi<Deployment[]>(`/runs/${runId}/deployments`, undefined, {
    pollMs: POLL_MS,
    live: (d) => live || d.some((x) => x.state === "waiting"),
  });
  const list = deps.data ?? [];
  if (list.length === 0) return deps.error ? <ErrorLine error={deps.error} /> : null;
  const envs = [...new Set(list.filter((d) => d.state === "waiting").map((d) => d.environment))];
  return (
    <Section title="Deployments">
      <ul class="deployments" data-testid="deployments">
        {list.map((d) => (
          <li key={`${d.jobId}-${d.environment}`} data-testid="deployment">
            <strong>{d.environment}</strong> · <a href={`/jobs/${d.jobId}/logs`}>{d.jobName}</a> ·{" "}
            <span class={`dep-${d.state}`}>{d.state}</span>
            {d.reviewer && (
              <span class="muted">
                {" "}
                by {d.reviewer}
                {d.comment ? `: ${d.comment}` : ""}
              </span>
            )}
            {d.state === "waiting" && d.approvers && <div class="muted small">May review: {d.approvers}</div>}
          </li>
        ))}
      </ul>
      {envs.map((env) => {
        const waiting = list.filter((d) => d.state === "waiting" && d.environment === env);
        const may =
          waiting.some((d) => d.youMay === true) ||
          (waiting.every((d) => d.youMay === undefined) && perms.has("deployments.review"));
        return (
          may && (
            <div class="run-actions" key={env}>
              <span>{env}:</span>
              <ActionButton
                label="Approve deployment"
                testId={`deployment-approve-${env}`}
                action={() => post(`/runs/${runId}/deployments`, { state: "approved", environments: [env] })}
                done={() => deps.reload()}
              />
              <ActionButton
                label="Reject deployment"
                danger
                confirm={`Reject the deployment to ${env}?`}
                testId={`deployment-reject-${env}`}
                action={() => post(`/runs/${runId}/deployments`, { state: "rejected", environments: [env] })}
                done={() => deps.reload()}
              />
            </div>
          )
        );
      })}
    </Section>
  );
}

function Annotations({
  runId,
  attempt,
  live,
}: {
  runId: number;
  attempt: number | undefined;
  live: boolean;
}) {
  const res = useApi<Annotation[] | { annotations: Annotation[]; truncated: boolean }>(
    `/runs/${runId}/annotations`,
    { attempt },
    { pollMs: POLL_MS * 2, live: () => live },
  );
  if (res.error) return <ErrorLine error={res.error} />;
  const list = res.data === undefined ? [] : Array.isArray(res.data) ? res.data : res.data.annotations;
  const truncated = res.data !== undefined && !Array.isArray(res.data) && res.data.truncated;
  if (list.length === 0) return null;
  const counts = { error: 0, warning: 0, notice: 0 };
  for (const a of list) counts[a.level]++;
  return (
    <Section
      title={`Annotations (${counts.error} errors, ${counts.warning} warnings, ${counts.notice} notices)`}
    >
      <ul class="annotations" data-testid="annotations">
        {list.map((a) => (
          <li
            key={`${a.jobId}-${a.attempt}-${a.seq}`}
            class={`annotation annotation-${a.level}`}
            data-testid="annotation"
          >
            <span class="annotation-level">{a.level}</span>{" "}
            <a href={`/jobs/${a.jobId}/logs#S${a.attempt}-${a.seq}`} data-testid="annotation-link">
              {a.jobName}
            </a>
            <pre class="annotation-text">{a.text}</pre>
          </li>
        ))}
      </ul>
      {truncated && <p class="muted">More annotations exist; the first {list.length} are shown.</p>}
    </Section>
  );
}

function JobSummaries({ job }: { job: Job }) {
  const res = useApi<Array<{ step: { index: number; id: string; name: string }; markdown: string }>>(
    `/jobs/${job.id}/summaries`,
  );
  if (!res.data || res.data.length === 0) return res.error ? <ErrorLine error={res.error} /> : null;
  return (
    <Section title={`Summary: ${job.name}`}>
      {res.data.map((s) => (
        <div key={s.step.index} class="summary" data-testid="step-summary">
          <Markdown text={s.markdown} />
        </div>
      ))}
    </Section>
  );
}

export function RunPage() {
  const { params, query } = useRoute();
  const { route, path } = useLocation();
  const id = /^\d+$/.test(params.id ?? "") ? Number(params.id) : undefined;
  const asked = query.attempt && /^\d+$/.test(query.attempt) ? Number(query.attempt) : undefined;
  const res = useApi<Detail>(
    id === undefined ? undefined : `/runs/${id}`,
    { attempt: asked },
    {
      pollMs: POLL_MS,
      live: (d) => d.state !== "completed" || d.jobs.some((j) => j.state !== "completed"),
    },
  );
  const perms = usePermissions(id === undefined ? {} : { run: id });
  const run = res.data;
  useTitle(run ? `${run.workflowName} #${run.number}` : "Run");
  if (id === undefined) return <NotFound />;
  if (!run) return res.error ? <ErrorLine error={res.error} /> : <p class="muted">Loading…</p>;
  const live = run.state !== "completed";
  const attempt = run.shownAttempt;
  const afterAction = (latest: boolean): void => {
    if (latest && asked !== undefined) route(path, true);
    res.reload();
  };
  // Summaries are written when a job finishes; one per finished job (at most 50).
  const finished = run.jobs.filter((j) => j.state === "completed").slice(0, 50);
  return (
    <div
      class="run-page"
      data-testid="run-page"
      data-run-state={run.state}
      data-perms={perms ? "loaded" : "loading"}
    >
      <Header run={run} attempt={attempt} />
      <ErrorLine error={res.error} />
      {perms && <Approval run={run} perms={perms} done={() => res.reload()} />}
      <Annotations runId={run.id} attempt={asked} live={live} />
      <Section
        title={attempt === run.attempt ? "Jobs" : `Jobs of attempt ${attempt}`}
        actions={perms && attempt === run.attempt && <Actions run={run} perms={perms} done={afterAction} />}
      >
        <JobGraph graph={run.graph} jobs={run.jobs} />
      </Section>
      {perms && <Deployments runId={run.id} live={live} perms={perms} />}
      {finished.map((j) => (
        <JobSummaries key={j.id} job={j} />
      ))}
    </div>
  );
}
