// `airlock run`: runs a repository's workflows locally, like `act`, each job in a fresh
// single-use sandbox on the debian-12 image (roots.ts). The code is the working tree as it is,
// uncommitted changes included (working-tree.ts). Validates everything first: a bad workflow,
// option or file runs nothing. -l, -g and -n show the plan instead (plan-view.ts).
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { commandEgress, type EgressCommandOptions } from "./egress.js";
import { AirlockError, ErrorCode, formatProblem, isAirlockError } from "../errors/index.js";
import { loadOptions } from "../config/index.js";
import { changedFiles, readRepo } from "../git/index.js";
import {
  loadWorkflows,
  matchesTrigger,
  parseWorkflowOffLoop,
  readInsideRepo,
  resolveDispatch,
  triggerEventOf,
} from "../workflow/index.js";
import type { Workflow } from "../workflow/model.js";
import {
  createActionLoader,
  createGitWorkspaceSource,
  fetchRemoteFile,
  parseUses,
} from "../actions/index.js";
import { createSandboxProvisioner } from "../provisioners/index.js";
import {
  createMachineExecutor,
  withConcurrencyGroups,
  workflowConcurrency,
  defaultPayload,
  eventRef,
  executeRun,
  repositoryName,
} from "../planner/index.js";
import { createConsoleReporter, jsonReport, summaryTable } from "./output.js";
import { parseKeyValues, readOptionJson } from "./args.js";
import { DEFAULT_SECRET_FILE, localSecrets, missingSecretWarnings } from "./local-secrets.js";
import { localValues } from "./env-files.js";
import { createDryRunExecutor, drawGraph, listTable, planStages } from "./plan-view.js";
import {
  createWorkingTreeSource,
  snapshotWorkingTree,
  uncommittedPaths,
  workingTreeLine,
  type Snapshot,
} from "./working-tree.js";
import type { InstanceExecutor } from "../planner/index.js";
import { localLimits } from "./limits.js";
import { resolveRunRoots } from "./roots.js";
import { ImageStore } from "../images/index.js";

export interface RunCommandOptions extends EgressCommandOptions {
  workflows?: string;
  job?: string;
  eventPath?: string;
  input: string[];
  /** workflow_dispatch inputs as a dotenv file (default .input); --input wins. */
  inputFile?: string;
  /** `vars` as a dotenv file (default .vars); --var wins. */
  varFile?: string;
  /** Environment of every job as a dotenv file (default .env); --env wins. */
  envFile?: string;
  env?: string[];
  /** --matrix key:value (repeatable): only the matrix legs with these values. */
  matrix?: string[];
  list?: boolean;
  graph?: boolean;
  dryrun?: boolean;
  secretFile?: string;
  /** -s NAME=value or -s NAME (from the environment), repeatable. */
  secret?: string[];
  var: string[];
  platform: string[];
  /** --limit name=value (see cli/limits.ts). */
  limit?: string[];
  actionsUrl?: string;
  json?: boolean;
  cwd?: string;
  /** Run jobs without -P on the host's root filesystem instead of the debian-12 image (opt-in). */
  hostRoot?: boolean;
}

export async function runCommand(eventArg: string | undefined, o: RunCommandOptions): Promise<number> {
  const options = loadOptions();
  const cwd = o.cwd ?? process.cwd();
  const repo = await readRepo(cwd).catch((err: unknown) => {
    if (!isAirlockError(err, "NOT_A_GIT_REPOSITORY")) throw err;
    throw new AirlockError(
      ErrorCode.NOT_A_GIT_REPOSITORY,
      `${err.message}: airlock run runs a git repository's working tree (git init, then commit once)`,
      { cause: err },
    );
  });
  const platforms = parseKeyValues(o.platform, "-P");
  const limits = localLimits(o.limit ?? []);
  const matrixFilter = parseMatrixFilter(o.matrix ?? []);

  const target = o.workflows
    ? relative(repo.root, isAbsolute(o.workflows) ? o.workflows : resolve(cwd, o.workflows))
    : undefined;
  const loaded = await loadWorkflows(repo.root, target);
  if (loaded.problems.length > 0) {
    throw new AirlockError(
      ErrorCode.WORKFLOW_INVALID,
      `${loaded.problems.length} problem(s) found, nothing was run:\n${loaded.problems.map(formatProblem).join("\n")}`,
      { details: loaded.problems },
    );
  }
  const err = process.stderr;

  if (o.list || o.graph) {
    // As act: every workflow's jobs, or those of the workflows that have the event given.
    const shown = eventArg ? loaded.workflows.filter((w) => eventArg in w.on) : loaded.workflows;
    if (o.job && !shown.some((w) => w.jobs.some((j) => j.id === o.job)))
      throw new AirlockError(
        ErrorCode.USAGE,
        `no job '${o.job}' in the workflows${eventArg ? ` that run on '${eventArg}'` : ""}`,
      );
    const planned = planStages(shown, o.job);
    if (planned.length === 0)
      err.write(`airlock: no workflow${eventArg ? ` runs on event '${eventArg}'` : ""}\n`);
    else process.stdout.write(o.list ? listTable(planned) : drawGraph(planned));
    return 0;
  }

  // As act: without an event, the only event the workflows have, else push.
  const allEvents = new Set(loaded.workflows.flatMap((w) => Object.keys(w.on)));
  const only = allEvents.size === 1 ? [...allEvents][0] : undefined;
  const event = eventArg ?? only ?? "push";
  if (eventArg === undefined && only !== undefined && only !== "push")
    err.write(`airlock: event '${only}', the only one the workflows run on\n`);

  const secretFile = o.secretFile ?? join(repo.root, DEFAULT_SECRET_FILE);
  const secrets = await localSecrets({
    ...(o.secretFile ? { secretFile: o.secretFile } : {}),
    secret: o.secret ?? [],
    root: repo.root,
    env: process.env,
  });
  const local = await localValues(repo.root, {
    ...(o.varFile !== undefined ? { varFile: o.varFile } : {}),
    ...(o.envFile !== undefined ? { envFile: o.envFile } : {}),
    ...(o.inputFile !== undefined ? { inputFile: o.inputFile } : {}),
    var: o.var,
    env: o.env ?? [],
    input: o.input,
  });
  const { vars, inputs: inputsGiven } = local;
  const uncommitted = await uncommittedPaths(repo.root);

  const fullName = repositoryName(repo);
  const payload = o.eventPath
    ? await readOptionJson(o.eventPath, "--event-path")
    : defaultPayload(event, repo, fullName, inputsGiven);
  const ref = eventRef(event, payload, repo);
  // The paths a push of the working tree would change: HEAD's and the uncommitted ones.
  const files =
    event === "push"
      ? [...new Set([...(await changedFiles(repo.root, repo.commit, repo.parent)), ...uncommitted])]
      : undefined;
  // Filters read the payload as GitHub does: types from `action`, a pull request's or merge
  // group's base branch, workflow_run's head branch and workflow name.
  const matched = loaded.workflows.filter((w) =>
    matchesTrigger(w, { ...triggerEventOf(event, payload, ref), ...(files ? { changedFiles: files } : {}) }),
  );

  // Called workflows of this repository are checked before anything runs: one that leads out of
  // the repository stops the run here, with one line (exit 2), not as a failed job later.
  for (const w of matched) {
    for (const j of w.jobs) {
      if (!j.uses?.startsWith("./")) continue;
      const file = j.uses.slice(2).split("@")[0] ?? "";
      const full = resolve(repo.root, file);
      if (relative(repo.root, full).startsWith("..")) continue;
      // Any other problem (a missing file, say) is the called job's failure, reported as before.
      await readInsideRepo(repo.root, full, file).catch((err: unknown) => {
        if (isAirlockError(err, "PATH_OUTSIDE_REPOSITORY")) throw err;
      });
    }
  }

  let inputs: Record<string, unknown> = {};
  if (event === "workflow_dispatch" && matched.length > 0) {
    // The payload's `inputs` (from -e, as GitHub's payload carries them) and --input, which wins;
    // github.event.inputs then holds every input's value as text, as on GitHub.
    const eventInputs: Record<string, string> = {};
    for (const w of matched) {
      const r = resolveDispatch(w, inputsGiven, payload.inputs);
      if (r.problems.length > 0)
        throw new AirlockError(ErrorCode.USAGE, `${w.file}: ${r.problems.join("; ")}`);
      inputs = { ...inputs, ...r.inputs };
      Object.assign(eventInputs, r.eventInputs);
    }
    payload.inputs = eventInputs;
  }
  if (o.job && !matched.some((w) => w.jobs.some((j) => j.id === o.job))) {
    throw new AirlockError(ErrorCode.USAGE, `no job '${o.job}' in the workflows that run on '${event}'`);
  }
  if (matched.length === 0) {
    err.write(`airlock: no workflow runs on event '${event}'\n`);
    if (o.json)
      process.stdout.write(jsonReport({ conclusion: "success", workflows: [], jobs: [], durationMs: 0 }));
    return 0;
  }

  const what = workingTreeLine(repo, uncommitted.length);
  err.write(`airlock: ${o.dryrun ? `dry run (no machine is created) of ${what}` : `running ${what}`}\n`);
  const defaults = [
    ...(o.secretFile || !existsSync(secretFile) ? [] : [DEFAULT_SECRET_FILE]),
    ...local.defaultsRead,
  ];
  if (defaults.length > 0) err.write(`airlock: reading ${defaults.join(", ")} from the repository's root\n`);
  for (const line of await missingSecretWarnings(repo.root, matched, secrets))
    err.write(`airlock: ${line}\n`);
  // A job's own warnings open its log (runner/job.ts); the workflow's are said here, once.
  for (const w of matched)
    for (const warning of w.warnings ?? [])
      if (warning.job === undefined) err.write(`airlock: warning: ${warning.text}\n`);

  const actionsUrl = (o.actionsUrl ?? options.actionsUrl).replace(/\/+$/, "");
  const actionOpts = { actionsUrl, cacheDir: options.actionsCacheDir };
  const loadCalledWorkflow = async (uses: string): Promise<Workflow> => {
    const u = parseUses(uses);
    let file: string;
    let content: string;
    if (u.kind === "local") {
      file = u.path.replace(/^\.\//, "");
      const full = resolve(repo.root, file);
      if (relative(repo.root, full).startsWith("..")) throw new Error(`${uses} is outside the repository`);
      content = await readInsideRepo(repo.root, full, file);
    } else if (u.kind === "remote") {
      file = `${u.owner}/${u.repo}/${u.path}@${u.ref}`;
      content = (await fetchRemoteFile(actionOpts, u.owner, u.repo, u.ref, u.path)).content;
    } else {
      throw new Error(`${uses} is not a workflow`);
    }
    const parsed = await parseWorkflowOffLoop(file, content);
    if (!parsed.workflow || parsed.problems.length > 0) {
      throw new Error(`${uses} is invalid:\n${parsed.problems.map(formatProblem).join("\n")}`);
    }
    return parsed.workflow;
  };

  const abort = new AbortController();
  const onSignal = (): void => {
    err.write("\nairlock: cancelling the run (again to force quit)\n");
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  const logOut = o.json ? err : process.stdout;
  const color = Boolean((logOut as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR;
  const cleanup: Array<() => unknown> = [];
  const identity = {
    runId: String(randomInt(1, 2 ** 31)),
    runNumber: 1,
    actor: repo.authorName || "airlock",
    serverUrl: "https://github.com",
  };
  // One local run at a time: a workflow-level group never waits here, but a job in the group its
  // own run holds is cancelled as on GitHub (planner/concurrency.ts).
  const runGroups = new Map<string, string | undefined>();
  const runGroup = (file: string): string | undefined => {
    if (!runGroups.has(file)) {
      const w = matched.find((m) => m.file === file);
      let group: string | undefined;
      try {
        group =
          w && workflowConcurrency({ event, payload, repo, fullName, ref, identity, inputs, vars }, w)?.group;
      } catch {
        group = undefined; // a bad workflow-level group holds nothing locally
      }
      runGroups.set(file, group);
    }
    return runGroups.get(file);
  };
  try {
    let executor: InstanceExecutor;
    if (o.dryrun) executor = createDryRunExecutor();
    else {
      const roots = resolveRunRoots(new ImageStore(options.imagesDir), platforms, {
        hostRoot: o.hostRoot === true,
        cwd,
        warn: (line) => err.write(line),
      });
      cleanup.push(() => roots.release());
      const egress = commandEgress(options, o);
      cleanup.push(() => egress.proxy.close());
      const provisioner = createSandboxProvisioner({ baseDir: options.machinesDir, diskPool: { warm: 0 } });
      cleanup.push(() => provisioner.close?.());
      // The secret file stays out of the jobs' workspace (its values reach only the jobs that use them).
      const snapshot: Snapshot = await snapshotWorkingTree(
        repo,
        uncommitted,
        new Set([relative(repo.root, resolve(cwd, secretFile)).split(sep).join("/")]),
      );
      cleanup.push(() => snapshot.remove());
      executor = withExtraEnv(
        createMachineExecutor({
          provisioner,
          limits,
          actions: createActionLoader(actionOpts),
          source: createWorkingTreeSource(repo, snapshot, createGitWorkspaceSource()),
          maxParallelJobs: options.maxParallelJobs,
          platforms: roots.platforms,
          defaultRoot: roots.defaultRoot,
          egress,
        }),
        local.env,
      );
    }
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    cleanup.push(
      () => process.off("SIGINT", onSignal),
      () => process.off("SIGTERM", onSignal),
    );
    const report = await executeRun({
      repo,
      fullName,
      identity,
      event,
      payload,
      ref,
      workflows: matched,
      inputs,
      vars,
      secrets,
      ...(o.job ? { onlyJobs: [o.job] } : {}),
      ...(matrixFilter ? { matrixFilter } : {}),
      // Jobs of this run that share a `concurrency:` group run one at a time (planner/concurrency.ts).
      executor: withConcurrencyGroups(executor, runGroup),
      loadCalledWorkflow,
      reporter: createConsoleReporter(logOut, color),
      signal: abort.signal,
    });
    if (o.json) process.stdout.write(jsonReport(report));
    else process.stdout.write("\n" + summaryTable(report, color));
    if (o.dryrun) err.write("airlock: dry run: nothing was run\n");
    return report.conclusion === "success" ? 0 : 1;
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}

/** --matrix key:value, repeatable; values of one key add up (act's semantics). */
function parseMatrixFilter(items: string[]): Record<string, string[]> | undefined {
  if (items.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const colon = item.indexOf(":");
    if (colon <= 0) throw new AirlockError(ErrorCode.USAGE, `--matrix expects key:value, got '${item}'`);
    (out[item.slice(0, colon)] ??= []).push(item.slice(colon + 1));
  }
  return out;
}

/**
 * --env-file / --env: variables of every job, as act's: over the workflow's and the job's `env`
 * (a step's own `env` still wins). Values are data: each is handed over as an expression string
 * literal, so a `${{` in a .env file is never evaluated.
 */
function withExtraEnv(inner: InstanceExecutor, env: Record<string, string>): InstanceExecutor {
  if (Object.keys(env).length === 0) return inner;
  const literal = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.includes("${{") ? `\${{ '${v.replace(/'/g, "''")}' }}` : v]),
  );
  return {
    run: (req) =>
      inner.run({ ...req, description: { ...req.description, env: [...req.description.env, literal] } }),
  };
}
