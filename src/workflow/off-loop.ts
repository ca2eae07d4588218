// Parsing workflow and action files off the event loop: a worker thread does the work (GitHub's
// parser plus our checks) with a time limit. Past the limit the worker is terminated and the file
// gets one problem; a new worker serves the next request. One worker, requests in turn; it is
// unref'd while idle so it never keeps a process alive.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { packageRoot } from "../db/package-root.js";
import type { Problem } from "../errors/index.js";
import type { ActionManifest } from "../runner/types.js";
import type { Workflow } from "./model.js";
import type { ParseRequest } from "./parse-worker.js";

/** How long one file may take to parse. */
export const PARSE_TIME_LIMIT_MS = 10_000;

interface Pending {
  req: ParseRequest;
  timeoutMs: number;
  resolve(v: unknown): void;
  reject(err: Error): void;
}

/**
 * A bootstrap module for the worker: hooks do not carry over into worker threads, so it registers
 * what the main thread has — tsx when running from sources (tests, development), else the JSON
 * import hook of bin/airlock.js when the parser's JSON imports were not patched at install
 * (bin/json-imports.js) — then loads parse-worker.
 */
function workerEntry(): URL {
  const fromSources = import.meta.url.endsWith(".ts");
  const target = new URL(fromSources ? "./parse-worker.ts" : "./parse-worker.js", import.meta.url).href;
  const setup = fromSources
    ? `const { register } = await import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}); register();`
    : `const { register } = await import("node:module");
       const { jsonImportsPatched } = await import(${JSON.stringify(
         pathToFileURL(join(packageRoot(), "bin", "json-imports.js")).href,
       )});
       if (!jsonImportsPatched()) register(${JSON.stringify(
         pathToFileURL(join(packageRoot(), "bin", "json-hook.js")).href,
       )});`;
  return new URL(
    `data:text/javascript,${encodeURIComponent(`${setup} await import(${JSON.stringify(target)});`)}`,
  );
}

let worker: Worker | undefined;
let current: (Pending & { timer: NodeJS.Timeout }) | undefined;
const queue: Pending[] = [];
let nextId = 1;

function spawn(): Worker {
  const w = new Worker(workerEntry());
  w.on("message", (msg: { id: number; result?: unknown; error?: string }) => {
    const job = current;
    if (!job || job.req.id !== msg.id) return;
    clearTimeout(job.timer);
    current = undefined;
    if (msg.error !== undefined) job.reject(new Error(msg.error));
    else job.resolve(msg.result);
    next();
  });
  const fail = (err: Error): void => {
    if (worker === w) worker = undefined;
    const job = current;
    current = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(err);
    }
    next();
  };
  w.on("error", fail);
  w.on("exit", (code) => fail(new Error(`the parser worker exited (code ${code})`)));
  return w;
}

function next(): void {
  if (current) return;
  const job = queue.shift();
  if (!job) {
    worker?.unref();
    return;
  }
  worker ??= spawn();
  worker.ref();
  const w = worker;
  const timer = setTimeout(() => {
    // The parse is stuck: drop this worker (its exit handler is detached) and answer with a problem.
    if (worker === w) worker = undefined;
    w.removeAllListeners("exit");
    w.removeAllListeners("error");
    void w.terminate();
    const file = job.req.file;
    current = undefined;
    job.resolve({
      problems: [
        { file, line: 1, col: 1, message: `Parsing took longer than ${job.timeoutMs / 1000} s; refused` },
      ] satisfies Problem[],
    });
    next();
  }, job.timeoutMs);
  current = { ...job, timer };
  w.postMessage(job.req);
}

function request<T>(
  kind: ParseRequest["kind"],
  file: string,
  content: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push({
      req: { id: nextId++, kind, file, content },
      timeoutMs,
      resolve: resolve,
      reject,
    });
    next();
  });
}

/** parseWorkflow in the parser worker (same result), with a time limit. */
export function parseWorkflowOffLoop(
  file: string,
  content: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ workflow?: Workflow; problems: Problem[] }> {
  return request("workflow", file, content, opts.timeoutMs ?? PARSE_TIME_LIMIT_MS);
}

/** parseActionManifest in the parser worker (same result), with a time limit. */
export function parseActionManifestOffLoop(
  file: string,
  content: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ manifest?: ActionManifest; problems: Problem[] }> {
  return request("action", file, content, opts.timeoutMs ?? PARSE_TIME_LIMIT_MS);
}
