// Test helpers for the job runner: a WorkspaceSource that copies a fixture folder, an ActionLoader
// for `./path` actions in the workspace, a job description built from a real workflow file, and
// event collection. Machines come from the fake provisioner (real host processes and folders).
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { AirlockError, ErrorCode } from "../../src/errors/index.js";
import {
  HOST_ROOT,
  createFakeProvisioner,
  createSandboxProvisioner,
  type Machine,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { runJob } from "../../src/runner/index.js";
import type {
  ActionLoader,
  JobDescription,
  JobResult,
  RunnerEvent,
  StepRef,
  WorkspaceSource,
} from "../../src/runner/index.js";
import { parseActionManifest, parseWorkflow } from "../../src/workflow/index.js";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
export const COMMIT = "0123456789abcdef0123456789abcdef01234567";

export interface CheckoutCall {
  repository: string;
  commit: string;
  ref: string;
  path: string;
  clean: boolean;
}

/** Copies `dir` (when it exists) into the machine; records every call. */
export function folderSource(dir: string): WorkspaceSource & { calls: CheckoutCall[] } {
  const calls: CheckoutCall[] = [];
  return {
    calls,
    async checkout(machine, opts) {
      calls.push(opts);
      if (existsSync(dir)) await machine.copyIn(dir, opts.path);
      else await machine.writeFile(path.posix.join(opts.path, ".empty"), "");
    },
  };
}

/**
 * `./path` → the action.yml in the machine's workspace, read at each call; `owner/repo@ref` →
 * `<remoteDir>/owner/repo` on the host, copied into the machine's actions folder (as the real
 * loader does with a fetched tree); anything else is not found.
 */
export function workspaceLoader(remoteDir?: string): ActionLoader & { loaded: string[] } {
  const loaded: string[] = [];
  const copied = new Map<string, Promise<void>>();
  return {
    loaded,
    async load(uses: string, machine: Machine) {
      loaded.push(uses);
      let dir: string;
      const remote = /^([\w.-]+)\/([\w.-]+)@([\w.-]+)$/.exec(uses);
      if (uses.startsWith("./")) dir = path.posix.join(machine.paths.workspace, uses);
      else if (remote && remoteDir && existsSync(path.join(remoteDir, remote[1]!, remote[2]!))) {
        dir = path.posix.join(machine.paths.actions, remote[1]!, remote[2]!, remote[3]!);
        const key = `${machine.id}\0${dir}`;
        if (!copied.has(key))
          copied.set(key, machine.copyIn(path.join(remoteDir, remote[1]!, remote[2]!), dir));
        await copied.get(key);
      } else throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `no such action: ${uses}`);
      const text = (await machine.readFile(`${dir}/action.yml`))?.toString("utf8");
      if (text === undefined) throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `${uses}: no action.yml`);
      const { manifest, problems } = parseActionManifest(`${uses}/action.yml`, text);
      if (!manifest) {
        throw new AirlockError(ErrorCode.ACTION_INVALID, problems.map((p) => p.message).join("; "));
      }
      return { uses, dir, manifest };
    },
  };
}

export interface JobOptions {
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
}

/** The first job of a workflow file, described the way the planner would. */
export function jobFromWorkflow(file: string, content: string, opts: JobOptions = {}): JobDescription {
  const { workflow, problems } = parseWorkflow(file, content);
  if (!workflow) throw new Error(`invalid fixture ${file}: ${problems.map((p) => p.message).join("; ")}`);
  const job = workflow.jobs[0];
  if (!job) throw new Error(`${file}: no job`);
  const defaults = { ...workflow.defaults, ...job.defaults };
  return {
    runId: "42",
    jobId: job.id,
    displayName: job.id,
    workflow: { file, name: workflow.name },
    contexts: {
      github: {
        event_name: "push",
        event: { ref: "refs/heads/main", head_commit: { id: COMMIT } },
        sha: COMMIT,
        ref: "refs/heads/main",
        ref_name: "main",
        ref_type: "branch",
        repository: "octo/repo",
        repository_owner: "octo",
        run_id: "42",
        run_number: "7",
        run_attempt: "1",
        actor: "octocat",
        workflow: workflow.name,
        server_url: "https://github.example",
        api_url: "https://github.example/api/v3",
      },
      inputs: {},
      vars: opts.vars ?? {},
      secrets: opts.secrets ?? {},
      needs: {},
      matrix: null,
      strategy: {},
    },
    env: [workflow.env, job.env ?? {}],
    defaults: {
      ...(typeof defaults.shell === "string" ? { shell: defaults.shell } : {}),
      ...(typeof defaults.workingDirectory === "string"
        ? { workingDirectory: defaults.workingDirectory }
        : {}),
    },
    steps: job.steps,
    outputs: job.outputs ?? {},
    timeoutMinutes: job.timeoutMinutes === undefined ? 360 : Number(job.timeoutMinutes),
    source: {
      repository: "/nonexistent/repo",
      commit: COMMIT,
      ref: "refs/heads/main",
      repositoryName: "octo/repo",
    },
  };
}

export interface Run {
  result: JobResult;
  events: RunnerEvent[];
  machine: Machine;
  source: ReturnType<typeof folderSource>;
  loader: ReturnType<typeof workspaceLoader>;
}

export type Backend = "fake" | "sandbox";
const provisioners: Record<Backend, Provisioner> = {
  fake: createFakeProvisioner(),
  sandbox: createSandboxProvisioner(),
};
const machines: Machine[] = [];

export async function destroyMachines(): Promise<void> {
  for (const m of machines.splice(0)) await m.destroy();
}

/** Runs `job` on a fresh machine (fake by default) whose workspace comes from `repoDir`. */
export async function run(
  job: JobDescription,
  repoDir: string,
  signal?: AbortSignal,
  backend: Backend = "fake",
  remoteDir?: string,
): Promise<Run> {
  const machine = await provisioners[backend].create({ name: job.jobId, root: HOST_ROOT });
  machines.push(machine);
  const events: RunnerEvent[] = [];
  const source = folderSource(repoDir);
  const loader = workspaceLoader(remoteDir);
  const result = await runJob(job, {
    machine,
    actions: loader,
    source,
    onEvent: (e) => events.push(e),
    ...(signal ? { signal } : {}),
  });
  return { result, events, machine, source, loader };
}

/** Runs fixtures/<name>: workflow.yml (+ repo/ as the workspace, + input from expected.yml). */
export async function runFixture(
  name: string,
  signal?: AbortSignal,
  backend: Backend = "fake",
): Promise<Run & { expected: Expected }> {
  const dir = path.join(FIXTURES, name);
  const expected = parseYaml(readFileSync(path.join(dir, "expected.yml"), "utf8")) as Expected;
  const job = jobFromWorkflow(`${name}/workflow.yml`, readFileSync(path.join(dir, "workflow.yml"), "utf8"), {
    secrets: expected.input?.secrets ?? {},
    vars: expected.input?.vars ?? {},
  });
  // fixtures/<name>/actions/<owner>/<repo>: remote actions `owner/repo@ref` of that fixture.
  return {
    ...(await run(job, path.join(dir, "repo"), signal, backend, path.join(dir, "actions"))),
    expected,
  };
}

export interface ExpectedStep {
  id?: string;
  name?: string;
  stage?: StepRef["stage"];
  outcome?: string;
  conclusion?: string;
  outputs?: Record<string, string>;
  /** Exact stdout/stderr lines that must appear in this step's log. */
  logs?: string[];
  /** Substrings that must not appear in this step's stdout/stderr lines. */
  notInLogs?: string[];
  /** Annotations of the step: level plus, for user-written ones, message/file/line/col/title. */
  annotations?: Array<{
    level: string;
    message?: string;
    file?: string;
    line?: number;
    col?: number;
    title?: string;
  }>;
  /** Number of annotations of a level, e.g. { error: 1 }. */
  annotationCount?: Record<string, number>;
  /** Log lines with a given kind: [kind, text]. */
  kinds?: Array<[string, string]>;
}

export interface Expected {
  input?: { secrets?: Record<string, string>; vars?: Record<string, string> };
  conclusion: string;
  outputs?: Record<string, string>;
  steps: ExpectedStep[];
  /** Substrings that must appear nowhere in any emitted event. */
  nowhere?: string[];
  summaries?: string[];
  jobAnnotations?: Array<{ level: string }>;
}

export function stepLogs(events: RunnerEvent[], index: number): Array<Extract<RunnerEvent, { type: "log" }>> {
  return events.filter(
    (e): e is Extract<RunnerEvent, { type: "log" }> => e.type === "log" && e.step?.index === index,
  );
}

export function stepAnnotations(
  events: RunnerEvent[],
  index: number | undefined,
): Array<Extract<RunnerEvent, { type: "annotation" }>> {
  return events.filter(
    (e): e is Extract<RunnerEvent, { type: "annotation" }> =>
      e.type === "annotation" && e.step?.index === index,
  );
}
