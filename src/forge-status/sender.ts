// Sends the outbox's commit statuses to the forges: claims due rows, resolves each repository's
// forge (kind, API base, project path), opens its forge token for that one request, and records
// the outcome — sent, retried later with exponential backoff, or given up with the reason. Never
// throws into a run: a forge that is down, slow or refusing only leaves its rows' last_error.
// The token goes into a request header and nowhere else: every error text is scrubbed of it.
import type pg from "pg";
import type { Logger } from "pino";
import { describe, resolveForge, statusRequest, type ForgeKind } from "./forges.js";
import { claimDue, markFailed, markSent, supersedeOlder, type ClaimedStatus } from "./outbox.js";

export interface ForgeStatusOptions {
  /** First retry delay; each later one doubles it (at most MAX_DELAY_MS). 0: due at once (tests). */
  retryMs: number;
  /** Attempts before a status is given up (its last error kept). */
  maxAttempts: number;
  /** Longest wait for a forge's answer. */
  timeoutMs?: number;
  /** Rows per pass. */
  batch?: number;
}

export interface SenderDeps {
  pool: pg.Pool;
  logger: Logger;
  /** The run's link (the orchestrator's public URL + the run's path). */
  runUrl(runId: number): string;
  /** Opens the repository's forge token (undefined: it has none). */
  token(repositoryId: number): Promise<string | undefined>;
  options: ForgeStatusOptions;
}

export interface ForgeStatusSender {
  /** One pass: sends every due status once; resolves to how many were attempted. Serialised. */
  sendDue(): Promise<number>;
  /** Aborts the requests in flight (at shutdown: their rows are retried by the next pass). Idempotent. */
  close(): void;
}

const MAX_DELAY_MS = 30 * 60 * 1000;
const LEASE_MS = 120_000;
const MAX_ERROR_CHARS = 300;

interface Target {
  kind: ForgeKind;
  apiUrl: string;
  path: string;
  ref: string;
  runNumber: number;
  host: string;
}

type Outcome = { ok: true } | { ok: false; error: string; retryable: boolean };

export function createForgeStatusSender(d: SenderDeps): ForgeStatusSender {
  let chain: Promise<unknown> = Promise.resolve();
  let closing = new AbortController();
  const timeoutMs = d.options.timeoutMs ?? 15_000;

  const target = async (s: ClaimedStatus): Promise<Target | string> => {
    const { rows } = await d.pool.query<{
      name: string;
      clone_url: string;
      forge_kind: ForgeKind | null;
      forge_api_url: string | null;
      number: number;
      ref: string;
      hook: string | null;
    }>(
      `SELECT r.name, r.clone_url, r.forge_kind, r.forge_api_url, u.number, u.ref,
              (SELECT w.provider FROM webhook_deliveries w WHERE w.repository_id = r.id
                ORDER BY w.received_at DESC LIMIT 1) AS hook
         FROM runs u JOIN repositories r ON r.id = u.repository_id WHERE u.id = $1`,
      [s.runId],
    );
    const r = rows[0];
    if (!r) return `run ${s.runId} no longer exists`;
    const f = resolveForge({
      name: r.name,
      cloneUrl: r.clone_url,
      kind: r.forge_kind,
      apiUrl: r.forge_api_url,
      webhookProvider: r.hook,
    });
    if (!f.ok) return f.problem;
    return {
      kind: f.kind,
      apiUrl: f.apiUrl,
      path: f.path,
      ref: r.ref,
      runNumber: r.number,
      host: new URL(f.apiUrl).host,
    };
  };

  const send = async (s: ClaimedStatus): Promise<Outcome> => {
    const t = await target(s);
    if (typeof t === "string") return { ok: false, error: t, retryable: false };
    let token: string | undefined;
    try {
      token = await d.token(s.repositoryId);
    } catch (err) {
      return { ok: false, error: `the forge token cannot be opened: ${oneLine(err)}`, retryable: true };
    }
    if (token === undefined)
      return { ok: false, error: "the repository has no forge token any more", retryable: false };
    const req = statusRequest(
      {
        kind: t.kind,
        apiUrl: t.apiUrl,
        path: t.path,
        commit: s.commit,
        context: s.context,
        phase: s.phase,
        targetUrl: d.runUrl(s.runId),
        description: describe(t.runNumber, s.phase),
        ref: t.ref,
      },
      token,
    );
    const scrub = (text: string): string => clip(text.split(token).join("[token]"));
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        // A redirect would carry the request elsewhere: refused, not followed.
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), closing.signal]),
      });
    } catch (err) {
      return { ok: false, error: scrub(`${t.host} could not be reached: ${oneLine(err)}`), retryable: true };
    }
    const text = await res.text().catch(() => "");
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const said = forgeMessage(text);
    // GitLab refuses pending over pending or running, and running over running (a documented
    // quirk of its status state machine, HTTP 400 "Cannot transition status via :enqueue from
    // :pending"). Rows of a key go out in order, so that refusal of a non-final status means the
    // forge already shows it or a later one: done.
    if (
      t.kind === "gitlab" &&
      res.status === 400 &&
      /Cannot transition status/i.test(said) &&
      (s.phase === "queued" || s.phase === "waiting" || s.phase === "running")
    )
      return { ok: true };
    const error = scrub(`${t.kind} answered HTTP ${res.status}${said ? `: ${said}` : ""}`);
    // Busy, rate-limited or broken: again later. Any other refusal says the same next time.
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, error, retryable };
  };

  const pass = async (): Promise<number> => {
    await supersedeOlder(d.pool);
    const claimed = await claimDue(d.pool, d.options.batch ?? 50, LEASE_MS);
    for (const s of claimed) {
      let outcome: Outcome;
      try {
        outcome = await send(s);
      } catch (err) {
        outcome = { ok: false, error: clip(`sending failed: ${oneLine(err)}`), retryable: true };
      }
      if (outcome.ok) {
        await markSent(d.pool, s.id);
        continue;
      }
      const giveUp = !outcome.retryable || s.attempts >= d.options.maxAttempts;
      const delayMs = Math.min(MAX_DELAY_MS, d.options.retryMs * 2 ** Math.max(0, s.attempts - 1));
      await markFailed(d.pool, s.id, outcome.error, { giveUp, delayMs });
      const fields = {
        forgeStatus: s.id,
        runId: s.runId,
        context: s.context,
        attempt: s.attempts,
        error: outcome.error,
      };
      if (giveUp) d.logger.error(fields, "commit status given up");
      else d.logger.warn(fields, "commit status not delivered; will retry");
    }
    return claimed.length;
  };

  return {
    sendDue() {
      const next = chain.then(pass, pass);
      chain = next.catch(() => undefined);
      return next;
    },
    close() {
      closing.abort();
      closing = new AbortController();
    },
  };
}

function oneLine(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  const base = typeof e?.message === "string" ? e.message : String(err);
  const cause = e?.cause && typeof e.cause.message === "string" ? ` (${e.cause.message})` : "";
  return (base + cause).replace(/\s+/g, " ").trim();
}

function clip(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

/** The message a forge's error body carries (GitHub/Gitea `message`, GitLab `message`/`error`, Bitbucket `error.message`). */
function forgeMessage(text: string): string {
  if (text.trim() === "") return "";
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof j.message === "string") return j.message;
    if (j.message !== undefined) return JSON.stringify(j.message);
    if (typeof j.error === "string") return j.error;
    const inner = (j.error as { message?: unknown } | undefined)?.message;
    if (typeof inner === "string") return inner;
  } catch {
    // not JSON: its first characters
  }
  return text.slice(0, 200);
}
