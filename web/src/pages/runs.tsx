// The runs list, across repositories (/runs) or of one (/repos/:repo/runs): filters in the URL's
// query string (so a filtered list is a link), paging backwards by id ("Older"), refreshed while a
// listed run is not completed. Part of the first load: keep it small.
import { useEffect, useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import type { Run } from "../../../src/orchestrator/views/runs.js";
import type { Repository } from "../../../src/orchestrator/catalog/repositories.js";
import { withQuery } from "../api.js";
import { useApi, usePermissions, useTitle } from "../hooks.js";
import { TriggerRun } from "../components/trigger-run.js";
import { Ago, ErrorLine, Status } from "../components/ui.js";
import { TrustTier, firstLine, refName, runDuration, shortSha } from "../components/run-bits.js";
import "../runs.css";

type ListedRun = Run & { branch?: string | null; durationMs?: number | null };

const FILTERS = ["workflow", "branch", "event", "status", "actor"] as const;
type Filter = (typeof FILTERS)[number];
const EVENTS = [
  "push",
  "pull_request",
  "pull_request_target",
  "workflow_dispatch",
  "schedule",
  "workflow_call",
  "manual",
];
const STATUSES = ["queued", "in_progress", "completed", "success", "failure", "cancelled", "action_required"];
const PAGE = 25;

/** The repository of /repos/:repo/runs: an id, or a name (full or its last part). */
function useRepository(repo: string | undefined): {
  id?: number;
  name?: string;
  defaultBranch?: string;
  error?: string;
} {
  const numeric = repo !== undefined && /^\d+$/.test(repo);
  const list = useApi<Repository[]>(repo !== undefined && !numeric ? "/repositories" : undefined);
  const one = useApi<Repository>(numeric ? `/repositories/${repo}` : undefined);
  if (repo === undefined) return {};
  if (numeric)
    return {
      id: Number(repo),
      ...(one.data ? { name: one.data.name, defaultBranch: one.data.defaultBranch } : {}),
    };
  if (list.error) return { error: list.error };
  if (!list.data) return {};
  const found = list.data.find((r) => r.name === repo || r.name.split("/").pop() === repo);
  return found
    ? { id: found.id, name: found.name, defaultBranch: found.defaultBranch }
    : { error: `repository ${repo} not found` };
}

function Filters({
  values,
  apply,
}: {
  values: Record<Filter, string>;
  apply: (v: Record<Filter, string>) => void;
}) {
  const [draft, setDraft] = useState(values);
  useEffect(() => setDraft(values), [JSON.stringify(values)]);
  const set = (k: Filter) => (e: Event) =>
    setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        apply(draft);
      }}
    >
      <label>
        Workflow
        <input
          name="workflow"
          value={draft.workflow}
          onInput={set("workflow")}
          placeholder="ci.yml or name"
          data-testid="filter-workflow"
        />
      </label>
      <label>
        Branch
        <input name="branch" value={draft.branch} onInput={set("branch")} data-testid="filter-branch" />
      </label>
      <label>
        Event
        <input
          name="event"
          list="run-events"
          value={draft.event}
          onInput={set("event")}
          data-testid="filter-event"
        />
        <datalist id="run-events">
          {EVENTS.map((e) => (
            <option key={e} value={e} />
          ))}
        </datalist>
      </label>
      <label>
        Status
        <select name="status" value={draft.status} onChange={set("status")} data-testid="filter-status">
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace("_", " ")}
            </option>
          ))}
        </select>
      </label>
      <label>
        Actor
        <input name="actor" value={draft.actor} onInput={set("actor")} data-testid="filter-actor" />
      </label>
      <div class="filter-buttons">
        <button type="submit" data-testid="filter-apply">
          Filter
        </button>
        <button
          type="button"
          onClick={() => apply({ workflow: "", branch: "", event: "", status: "", actor: "" })}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

function RunRow({ run }: { run: ListedRun }) {
  return (
    <tr data-testid="run-row" data-run-id={run.id}>
      <td>
        <Status state={run.state} conclusion={run.conclusion} />
        {run.approval === "required" && run.state !== "completed" && (
          <div class="badge warn">approval required</div>
        )}
      </td>
      <td>
        <a href={`/runs/${run.id}`} class="run-link" data-testid="run-link">
          <span class="run-title">{firstLine(run.title) || `${run.workflowName} #${run.number}`}</span>
        </a>
        <div class="muted small">
          {run.workflowName || run.workflowFile} #{run.number}
          {run.attempt > 1 && <span class="badge"> attempt {run.attempt}</span>}
        </div>
        <div class="muted small only-narrow">
          {run.event} · {refName(run)} · {run.actor}
        </div>
      </td>
      <td class="opt">{run.event}</td>
      <td class="opt">
        <span class="branch mono" data-testid="run-branch">
          {refName(run)}
        </span>
      </td>
      <td class="opt mono" title={run.commit}>
        {shortSha(run.commit)}
      </td>
      <td>
        <TrustTier tier={run.trustTier} />
      </td>
      <td class="opt">{run.actor}</td>
      <td class="opt">
        <Ago at={run.startedAt ?? run.createdAt} />
      </td>
      <td class="opt">{runDuration(run)}</td>
    </tr>
  );
}

export function RunsPage() {
  const { params } = useRoute();
  const { query, route, path } = useLocation();
  const repo = useRepository(params.repo);
  useTitle(repo.name ? `Runs · ${repo.name}` : "Runs");
  const values = Object.fromEntries(FILTERS.map((f) => [f, query[f] ?? ""])) as Record<Filter, string>;
  const before = query.before && /^\d+$/.test(query.before) ? query.before : undefined;
  const waitingForRepo = params.repo !== undefined && repo.id === undefined;
  const runs = useApi<ListedRun[] | { runs: ListedRun[] }>(
    waitingForRepo ? undefined : "/runs",
    { ...values, repository: repo.id, before, limit: PAGE },
    { pollMs: 3000, live: (d) => (Array.isArray(d) ? d : d.runs).some((r) => r.state !== "completed") },
  );
  const list = runs.data === undefined ? undefined : Array.isArray(runs.data) ? runs.data : runs.data.runs;
  const go = (q: Record<string, string | undefined>): void => route(withQuery(path, q));
  const last = list?.at(-1);
  const may = usePermissions(repo.id === undefined ? null : { repository: repo.id });
  return (
    <section class="card" data-permissions={may === undefined ? "loading" : "loaded"}>
      <div class="card-head">
        <h1>
          {repo.name ? `Runs of ${repo.name}` : params.repo ? `Runs of repository ${params.repo}` : "Runs"}
        </h1>
        {repo.id !== undefined && may?.has("runs.write") && (
          <div class="card-actions">
            <TriggerRun
              repositoryId={repo.id}
              {...(repo.defaultBranch ? { defaultBranch: repo.defaultBranch } : {})}
            />
          </div>
        )}
      </div>
      <Filters values={values} apply={(v) => go(v)} />
      <ErrorLine error={repo.error ?? runs.error} />
      {list === undefined ? (
        runs.loading && <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="runs-empty">
          No runs
          {FILTERS.some((f) => values[f]) ? " match these filters" : before ? " older than these" : " yet"}.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="runs" data-testid="runs-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Run</th>
                <th class="opt">Event</th>
                <th class="opt">Branch</th>
                <th class="opt">Commit</th>
                <th>Trust</th>
                <th class="opt">Actor</th>
                <th class="opt">Started</th>
                <th class="opt">Duration</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <RunRow key={r.id} run={r} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        {before && (
          <a href={withQuery(path, { ...values })} data-testid="runs-newest">
            ← Newest
          </a>
        )}
        {list && last && list.length >= PAGE && (
          <a href={withQuery(path, { ...values, before: String(last.id) })} data-testid="runs-older">
            Older →
          </a>
        )}
      </div>
    </section>
  );
}
