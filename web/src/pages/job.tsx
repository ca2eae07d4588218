// The job log page (/jobs/:id, /jobs/:id/logs, ?attempt=N for the same job in an earlier run
// attempt): the log loaded page by page (GET /jobs/:id/log-chunks), then followed live over the
// log stream (SSE) until its `end`; step sections, group folding, ANSI colours, timestamps on
// demand, search over the whole log, line links (#L12, #L12-L20; #S<attempt>-<seq> from an
// annotation becomes #L…), download, the job's steps beside it and its earlier attempts.
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import type { Job } from "../../../src/orchestrator/views/jobs.js";
import type { RunDetail } from "../../../src/orchestrator/views/runs.js";
import { get, messageOf } from "../api.js";
import { useApi, useTitle } from "../hooks.js";
import { Duration, ErrorLine, NotFound, Status } from "../components/ui.js";
import { LogModel, parseLogHash, type LogChunkIn, type SearchResult } from "../lib/log-model.js";
import { LogView, type LogViewHandle } from "../components/log-view.js";

interface LogPage {
  chunks: LogChunkIn[];
  next: string | null;
  complete: boolean;
}

const PAGE = 20000;

/** The current search match: its line and which occurrence in it; `move`: scroll there. */
interface SearchAt {
  query: string;
  caseSensitive: boolean;
  line: number;
  nth: number;
  move: boolean;
}

interface Feed {
  model: LogModel;
  version: number;
  complete: boolean;
  loading: boolean;
  live: boolean;
  waitReason: string | undefined;
  error: string | undefined;
}

/** The job's log: every stored page, then the live stream (chunks already held are skipped). */
function useLogFeed(jobId: number | undefined): Feed {
  const [model, setModel] = useState(() => new LogModel());
  const [version, setVersion] = useState(0);
  const [state, setState] = useState({ complete: false, loading: true, live: false });
  const [waitReason, setWaitReason] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (jobId === undefined) return;
    const m = new LogModel();
    setModel(m);
    setVersion(0);
    setState({ complete: false, loading: true, live: false });
    setError(undefined);
    let stopped = false;
    let source: EventSource | undefined;
    let frame = 0;
    const bump = (): void => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (!stopped) setVersion(m.version);
      });
    };
    const follow = (after: string | undefined): void => {
      // From where the pages ended: the stream sends only what came after (a reconnect's
      // Last-Event-ID wins over the query).
      const from = after === undefined ? "" : `?after=${encodeURIComponent(after)}`;
      source = new EventSource(`/api/v1/jobs/${jobId}/logs/stream${from}`);
      setState({ complete: false, loading: false, live: true });
      source.addEventListener("log", (e) => {
        try {
          if (m.append(JSON.parse((e as MessageEvent<string>).data) as LogChunkIn)) bump();
        } catch {
          /* a malformed event is skipped */
        }
      });
      source.addEventListener("wait", (e) => {
        try {
          setWaitReason((JSON.parse((e as MessageEvent<string>).data) as { reason: string }).reason);
        } catch {
          /* ignored */
        }
      });
      source.addEventListener("end", () => {
        source?.close();
        setWaitReason(undefined);
        setState({ complete: true, loading: false, live: false });
        bump();
      });
      // The browser reconnects by itself (sending Last-Event-ID); a stream that gives up is said.
      source.onerror = () => {
        if (source?.readyState === EventSource.CLOSED && !stopped)
          setError("the live log stream closed; reload to resume");
      };
    };
    const load = async (): Promise<void> => {
      let after: string | undefined;
      for (;;) {
        const page = await get<LogPage>(`/jobs/${jobId}/log-chunks`, { after, limit: PAGE });
        if (stopped) return;
        for (const c of page.chunks) m.append(c);
        bump();
        if (page.complete) {
          setState({ complete: true, loading: false, live: false });
          return;
        }
        // A page can end early (its byte budget): go on until a page brings nothing new.
        if (page.next !== null) after = page.next;
        if (page.chunks.length === 0) break;
      }
      follow(after);
    };
    load().catch((err: unknown) => {
      if (stopped) return;
      setError(messageOf(err));
      setState({ complete: false, loading: false, live: false });
    });
    return () => {
      stopped = true;
      source?.close();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [jobId]);

  return { model, version, ...state, waitReason, error };
}

function stepTitle(s: Job["steps"][number]): string {
  return s.stage === "main" ? s.name : `${s.stage}: ${s.name}`;
}

function Steps({ job, model, jump }: { job: Job; model: LogModel; jump: (line: number) => void }) {
  if (job.steps.length === 0) return null;
  const seen = new Map<string, number>();
  return (
    <nav class="steps card" data-testid="steps">
      <h2>Steps</h2>
      <ol>
        {job.steps.map((s) => {
          const title = stepTitle(s);
          const k = seen.get(title) ?? 0;
          seen.set(title, k + 1);
          const section = model.sections.filter((x) => x.title === title)[k];
          return (
            <li key={s.index} data-testid="step">
              <Status
                state={s.conclusion ? "completed" : s.startedAt ? "running" : "queued"}
                conclusion={s.conclusion}
              />{" "}
              {section ? (
                <a
                  href={`#L${section.headerLine + 1}`}
                  onClick={(e) => {
                    e.preventDefault();
                    jump(section.headerLine);
                  }}
                >
                  {title}
                </a>
              ) : (
                <span>{title}</span>
              )}{" "}
              <span class="muted small">
                <Duration from={s.startedAt} to={s.finishedAt} />
              </span>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function Attempts({ job }: { job: Job }) {
  const run = useApi<RunDetail>(`/runs/${job.runId}`);
  const attempts = run.data?.attempts ?? [];
  if (attempts.length < 2) return null;
  return (
    <nav class="attempts" data-testid="job-attempts">
      Run attempts:{" "}
      {attempts.map((a) => (
        <a
          key={a.attempt}
          href={`/jobs/${job.id}/logs?attempt=${a.attempt}`}
          class={a.attempt === job.runAttempt ? "here" : ""}
          data-testid={`job-attempt-${a.attempt}`}
        >
          #{a.attempt}
        </a>
      ))}
    </nav>
  );
}

/** ?attempt=N names the same job in another run attempt: find its id and go there. */
function useAttemptRedirect(job: Job | undefined, attempt: number | undefined): string | undefined {
  const { route } = useLocation();
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!job || attempt === undefined || attempt === job.runAttempt) return;
    get<RunDetail>(`/runs/${job.runId}`, { attempt })
      .then((run) => {
        const other = run.jobs.find((j) => j.key === job.key);
        if (other) route(`/jobs/${other.id}/logs${location.hash}`, true);
        else setError(`job ${job.name} did not run in attempt ${attempt} of run ${job.runId}`);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [job?.id, attempt]);
  return error;
}

function Search({
  model,
  version,
  onCurrent,
}: {
  model: LogModel;
  version: number;
  onCurrent: (s: SearchAt | undefined) => void;
}) {
  const [text, setText] = useState("");
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [result, setResult] = useState<SearchResult | undefined>(undefined);
  const [index, setIndex] = useState(0);
  const searchedAt = useRef(0);
  const run = (q: string, cs: boolean, keep: boolean): void => {
    const r = q === "" ? undefined : model.search(q, cs);
    searchedAt.current = model.version;
    setResult(r);
    const i = keep && r ? Math.min(index, Math.max(0, r.count - 1)) : 0;
    setIndex(i);
    show(r, i, !keep);
  };
  const show = (r: SearchResult | undefined, i: number, move: boolean): void => {
    if (!r || r.count === 0)
      return onCurrent(r ? { query: r.query, caseSensitive, line: -1, nth: -1, move: false } : undefined);
    const line = r.lines[i] ?? 0;
    if (move) model.reveal(line);
    onCurrent({ query: r.query, caseSensitive, line, nth: r.nth[i] ?? 0, move });
  };
  // Debounced as one types; new lines of a running job are searched again (at most once a second).
  useEffect(() => {
    const t = setTimeout(() => run(text, caseSensitive, false), 200);
    return () => clearTimeout(t);
  }, [text, caseSensitive]);
  useEffect(() => {
    if (!text || searchedAt.current === model.version) return;
    const t = setTimeout(() => run(text, caseSensitive, true), 1000);
    return () => clearTimeout(t);
  }, [version]);
  const step = (d: number): void => {
    if (!result || result.count === 0) return;
    const i = (index + d + result.count) % result.count;
    setIndex(i);
    show(result, i, true);
  };
  return (
    <div class="log-search" role="search">
      <input
        type="search"
        placeholder="Search the log"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            if (result?.query === text) step(e.shiftKey ? -1 : 1);
            else run(text, caseSensitive, false);
          }
        }}
        data-testid="log-search"
        aria-label="Search the log"
      />
      <label class="inline">
        <input
          type="checkbox"
          checked={caseSensitive}
          onChange={(e) => setCaseSensitive(e.currentTarget.checked)}
        />
        Aa
      </label>
      <button
        type="button"
        onClick={() => step(-1)}
        disabled={!result?.count}
        data-testid="search-prev"
        aria-label="Previous match"
      >
        ↑
      </button>
      <button
        type="button"
        onClick={() => step(1)}
        disabled={!result?.count}
        data-testid="search-next"
        aria-label="Next match"
      >
        ↓
      </button>
      <span class="muted small" data-testid="search-count">
        {result === undefined
          ? ""
          : result.count === 0
            ? "no matches"
            : `${index + 1} of ${result.count}${result.capped ? "+" : ""}`}
      </span>
    </div>
  );
}

export function JobPage() {
  const { params, query } = useRoute();
  const id = /^\d+$/.test(params.id ?? "") ? Number(params.id) : undefined;
  const asked = query.attempt && /^\d+$/.test(query.attempt) ? Number(query.attempt) : undefined;
  const jobRes = useApi<Job>(id === undefined ? undefined : `/jobs/${id}`, undefined, {
    pollMs: 2000,
    live: (j) => j.state !== "completed",
  });
  const job = jobRes.data;
  const redirectError = useAttemptRedirect(job, asked);
  const showLog =
    id !== undefined && (asked === undefined || (job !== undefined && asked === job.runAttempt));
  const feed = useLogFeed(showLog ? id : undefined);
  const [timestamps, setTimestamps] = useState(false);
  const [follow, setFollow] = useState(true);
  const [highlight, setHighlight] = useState<{ from: number; to: number } | undefined>(undefined);
  const [search, setSearch] = useState<SearchAt | undefined>(undefined);
  const [, setFolds] = useState(0);
  const handle = useRef<LogViewHandle | undefined>(undefined);
  const pendingHash = useRef<string | undefined>(typeof location === "undefined" ? undefined : location.hash);
  useTitle(job ? `${job.name} · log` : "Job log");

  const goToLine = (line: number, to = line): void => {
    feed.model.reveal(line);
    setHighlight({ from: line, to });
    setFollow(false);
    setFolds((n) => n + 1);
    requestAnimationFrame(() => handle.current?.scrollToLine(line));
  };

  // A #L… (or #S…) in the URL: applied once its line is loaded, and on every hash change.
  const applyHash = (hash: string): boolean => {
    const target = parseLogHash(hash);
    if (!target) return true;
    if (target.kind === "chunk") {
      const line = feed.model.lineOfPosition(target.attempt, target.seq);
      if (line === undefined) return false;
      history.replaceState(history.state, "", `${location.pathname}${location.search}#L${line + 1}`);
      goToLine(line);
      return true;
    }
    if (target.from > feed.model.lineCount) return false;
    goToLine(target.from - 1, Math.min(target.to, feed.model.lineCount) - 1);
    return true;
  };
  useEffect(() => {
    const h = pendingHash.current;
    if (!h) return;
    if (applyHash(h) || feed.complete) pendingHash.current = undefined;
  }, [feed.version, feed.complete]);
  useEffect(() => {
    const onHash = (): void => void applyHash(location.hash);
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, [feed.model]);
  // Follow the end of a running job's log unless the reader scrolled away or asked for a line.
  useEffect(() => {
    if (search?.move) {
      setFollow(false);
      requestAnimationFrame(() => handle.current?.scrollToLine(search.line));
    }
  }, [search?.line, search?.nth, search?.query]);

  if (id === undefined) return <NotFound />;
  if (!job) return jobRes.error ? <ErrorLine error={jobRes.error} /> : <p class="muted">Loading…</p>;
  const onLineLink = (line: number, extend: boolean): void => {
    const from = extend && highlight ? Math.min(highlight.from, line) : line;
    const to = extend && highlight ? Math.max(highlight.to, line) : line;
    history.replaceState(
      history.state,
      "",
      `${location.pathname}${location.search}#L${from + 1}${to !== from ? `-L${to + 1}` : ""}`,
    );
    setHighlight({ from, to });
    setFollow(false);
  };
  return (
    <div
      class="job-page"
      data-testid="job-page"
      data-job-state={job.state}
      data-log-complete={feed.complete ? "1" : "0"}
    >
      <section class="card job-head">
        <div class="card-head">
          <Status state={job.state} conclusion={job.conclusion} />
          <h1 data-testid="job-name">{job.name}</h1>
          <div class="card-actions">
            <a
              class="button"
              href={`/runs/${job.runId}${job.runAttempt > 1 ? `?attempt=${job.runAttempt}` : ""}`}
            >
              Run {job.runId}
            </a>
            <a
              class="button"
              href={`/api/v1/jobs/${job.id}/logs?download=1`}
              download={`job-${job.id}.log`}
              data-testid="log-download"
            >
              Download log
            </a>
          </div>
        </div>
        <p class="muted small">
          {job.node ? `on ${job.node}` : "not on a node yet"}
          {job.image ? ` · ${job.image}` : ""}
          {job.attempt > 1 ? ` · delivery attempt ${job.attempt}` : ""}
          {job.reusedFrom !== null ? ` · result kept from job ${job.reusedFrom}` : ""} ·{" "}
          <Duration from={job.startedAt} to={job.finishedAt} />
          {job.logTruncated ? " · log truncated" : ""}
        </p>
        {(feed.waitReason ?? job.waitReason) && job.state === "queued" && (
          <p class="wait" data-testid="job-wait">
            Waiting: {feed.waitReason ?? job.waitReason}
          </p>
        )}
        {job.error && <ErrorLine error={job.error} />}
        <Attempts job={job} />
      </section>
      <ErrorLine error={redirectError ?? feed.error} />
      {showLog && (
        <div class="log-layout">
          <Steps job={job} model={feed.model} jump={goToLine} />
          <section class="log-panel card">
            <div class="log-tools">
              <Search model={feed.model} version={feed.version} onCurrent={setSearch} />
              <label class="inline">
                <input
                  type="checkbox"
                  checked={timestamps}
                  onChange={(e) => setTimestamps(e.currentTarget.checked)}
                  data-testid="toggle-timestamps"
                />
                Timestamps
              </label>
              <span class="muted small" data-testid="log-state">
                {feed.loading
                  ? `Loading… ${feed.model.lineCount} lines`
                  : feed.live
                    ? `Live · ${feed.model.lineCount} lines`
                    : `${feed.model.lineCount} lines`}
              </span>
            </div>
            {feed.model.lineCount === 0 && !feed.loading ? (
              <p class="muted" data-testid="log-empty">
                {feed.complete ? "This job wrote no log." : "No log yet."}
              </p>
            ) : (
              <LogView
                model={feed.model}
                version={feed.version}
                timestamps={timestamps}
                highlight={highlight}
                search={search}
                follow={follow && feed.live}
                onLineLink={onLineLink}
                onToggle={() => setFolds((n) => n + 1)}
                onFollowChange={setFollow}
                handle={handle}
              />
            )}
          </section>
        </div>
      )}
    </div>
  );
}
