// Small building blocks shared by the pages: status marks, times and durations, error lines,
// confirmation buttons. Everything renders text through JSX (never HTML strings).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { messageOf } from "../api.js";

/** A run's or job's state as a mark and a word: queued, running, success, failure, … */
export function Status({ state, conclusion }: { state: string; conclusion?: string | null }) {
  const word = state === "completed" ? (conclusion ?? "completed") : state;
  const mark =
    word === "success"
      ? "✓"
      : word === "failure" || word === "lost"
        ? "✗"
        : word === "cancelled"
          ? "⊘"
          : word === "skipped"
            ? "–"
            : word === "running" || word === "assigned"
              ? "●"
              : "○";
  return (
    <span class={`status status-${word}`} data-status={word} title={word}>
      <span aria-hidden="true">{mark}</span> {word}
    </span>
  );
}

/** "3 min ago" with the exact time on hover. */
export function Ago({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">–</span>;
  const t = new Date(at);
  const s = Math.max(0, Math.round((Date.now() - t.getTime()) / 1000));
  const text =
    s < 60
      ? `${s} s ago`
      : s < 3600
        ? `${Math.floor(s / 60)} min ago`
        : s < 86400
          ? `${Math.floor(s / 3600)} h ago`
          : t.toLocaleDateString();
  return (
    <time dateTime={t.toISOString()} title={t.toISOString()}>
      {text}
    </time>
  );
}

/** Milliseconds as "1m 05s" / "12.3s". */
export function formatDuration(ms: number): string {
  if (ms < 0) return "–";
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return m < 60
    ? `${m}m ${String(s).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** From start to finish (or to now while it runs). */
export function Duration({ from, to }: { from: string | null | undefined; to: string | null | undefined }) {
  if (!from) return <span class="muted">–</span>;
  const end = to ? new Date(to).getTime() : Date.now();
  return <span class="duration">{formatDuration(end - new Date(from).getTime())}</span>;
}

export function ErrorLine({ error }: { error: unknown }) {
  if (error === undefined || error === null || error === "") return null;
  return (
    <p class="error" role="alert">
      {typeof error === "string" ? error : messageOf(error)}
    </p>
  );
}

/**
 * A button that runs an action, shows "…" while it runs and the error line if it fails; with
 * `confirm`, a second click on "Confirm" is needed (no window.confirm: it blocks the page).
 */
export function ActionButton(props: {
  label: string;
  action: () => Promise<unknown>;
  confirm?: string;
  danger?: boolean;
  testId?: string;
  done?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await props.action();
      setAsking(false);
      props.done?.();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const cls = props.danger ? "danger" : "";
  return (
    <span class="action">
      {asking ? (
        <>
          <span class="confirm-text">{props.confirm}</span>{" "}
          <button
            type="button"
            class={cls}
            disabled={busy}
            onClick={() => void run()}
            data-testid={props.testId && `${props.testId}-confirm`}
          >
            {busy ? "…" : "Confirm"}
          </button>{" "}
          <button type="button" onClick={() => setAsking(false)}>
            Keep
          </button>
        </>
      ) : (
        <button
          type="button"
          class={cls}
          disabled={busy}
          data-testid={props.testId}
          onClick={() => (props.confirm ? setAsking(true) : void run())}
        >
          {busy ? "…" : props.label}
        </button>
      )}
      {error && (
        <span class="error" role="alert">
          {" "}
          {error}
        </span>
      )}
    </span>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>{title}</h2>
        {actions && <div class="card-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

export function NotFound() {
  return (
    <section class="card">
      <h1>Not found</h1>
      <p>
        There is no page here. <a href="/runs">Back to the runs</a>.
      </p>
    </section>
  );
}
