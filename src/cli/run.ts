// `airlock run`: runs a repository's workflows locally, like `act`, each job in a fresh
// single-use sandbox on the debian-12 image (roots.ts). Validates everything first: a bad
// workflow or option runs nothing.
import { isAbsolute, relative, resolve } from "node:path";
import { randomInt } from "node:crypto";
import { commandEgress, type EgressCommandOptions } from "./egress.js";
import { AirlockError, ErrorCode, formatProblem, isAirlockError } from "../errors/index.js";
import { loadOptions } from "../config/index.js";
import { changedFiles, readRepo } from "../git/index.js";
import {
  dispatchInputs,
  loadWorkflows,
  matchesTrigger,
  parseWorkflowOffLoop,
  readInsideRepo,
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
  defaultPayload,
  eventRef,
  executeRun,
  repositoryName,
} from "../planner/index.js";
import { createConsoleReporter, jsonReport, summaryTable } from "./output.js";
import { parseKeyValues, readOptionJson } from "./args.js";
import { localSecrets, missingSecretWarnings } from "./local-secrets.js";
import { localLimits } from "./limits.js";
import { resolveRunRoots } from "./roots.js";
import { ImageStore } from "../images/index.js";

export interface RunCommandOptions extends EgressCommandOptions {
  workflows?: string;
  job?: string;
  eventPath?: string;
  input: string[];
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

export async function runCommand(event: string, o: RunCommandOptions): Promise<number> {
  const options = loadOptions();
  const egress = commandEgress(options, o);
  const actionsUrl = (o.actionsUrl ?? options.actionsUrl).replace(/\/+$/, "");
  const repo = await readRepo(o.cwd ?? process.cwd());
  const inputsGiven = parseKeyValues(o.input, "--input");
  const vars = parseKeyValues(o.var, "--var");
  const platforms = parseKeyValues(o.platform, "-P");
  const limits = localLimits(o.limit ?? []);
  const secrets = await localSecrets({
    ...(o.secretFile ? { secretFile: o.secretFile } : {}),
    secret: o.secret ?? [],
    root: repo.root,
    env: process.env,
  });

  const target = o.workflows
    ? relative(
        repo.root,
        isAbsolute(o.workflows) ? o.workflows : resolve(o.cwd ?? process.cwd(), o.workflows),
      )
    : undefined;
  const loaded = await loadWorkflows(repo.root, target);
  if (loaded.problems.length > 0) {
    throw new AirlockError(
      ErrorCode.WORKFLOW_INVALID,
      `${loaded.problems.length} problem(s) found, nothing was run:\n${loaded.problems.map(formatProblem).join("\n")}`,
      { details: loaded.problems },
    );
  }

  const fullName = repositoryName(repo);
  const payload = o.eventPath
    ? await readOptionJson(o.eventPath, "--event-path")
    : defaultPayload(event, repo, fullName, inputsGiven);
  const ref = eventRef(event, payload, repo);
  const files = event === "push" ? await changedFiles(repo.root, repo.commit, repo.parent) : undefined;
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
  if (event === "workflow_dispatch") {
    for (const w of matched) {
      const r = dispatchInputs(w, inputsGiven);
      if (r.problems.length > 0)
        throw new AirlockError(ErrorCode.USAGE, `${w.file}: ${r.problems.join("; ")}`);
      inputs = { ...inputs, ...r.inputs };
    }
  }
  if (o.job && !matched.some((w) => w.jobs.some((j) => j.id === o.job))) {
    throw new AirlockError(ErrorCode.USAGE, `no job '${o.job}' in the workflows that run on '${event}'`);
  }
  const err = process.stderr;
  if (matched.length === 0) {
    err.write(`airlock: no workflow runs on event '${event}'\n`);
    if (o.json)
      process.stdout.write(jsonReport({ conclusion: "success", workflows: [], jobs: [], durationMs: 0 }));
    return 0;
  }

  for (const line of await missingSecretWarnings(repo.root, matched, secrets))
    err.write(`airlock: ${line}\n`);

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

  const roots = resolveRunRoots(new ImageStore(options.imagesDir), platforms, {
    hostRoot: o.hostRoot === true,
    cwd: o.cwd ?? process.cwd(),
    warn: (line) => err.write(line),
  });
  const provisioner = createSandboxProvisioner({ baseDir: options.machinesDir, diskPool: { warm: 0 } });
  const abort = new AbortController();
  const onSignal = (): void => {
    err.write("\nairlock: cancelling the run (again to force quit)\n");
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const logOut = o.json ? err : process.stdout;
  const color = Boolean((logOut as NodeJS.WriteStream).isTTY) && !process.env.NO_COLOR;
  try {
    const report = await executeRun({
      repo,
      fullName,
      identity: {
        runId: String(randomInt(1, 2 ** 31)),
        runNumber: 1,
        actor: repo.authorName || "airlock",
        serverUrl: "https://github.com",
      },
      event,
      payload,
      ref,
      workflows: matched,
      inputs,
      vars,
      secrets,
      ...(o.job ? { onlyJobs: [o.job] } : {}),
      executor: createMachineExecutor({
        provisioner,
        limits,
        actions: createActionLoader(actionOpts),
        source: createGitWorkspaceSource(),
        maxParallelJobs: options.maxParallelJobs,
        platforms: roots.platforms,
        defaultRoot: roots.defaultRoot,
        egress,
      }),
      loadCalledWorkflow,
      reporter: createConsoleReporter(logOut, color),
      signal: abort.signal,
    });
    if (o.json) process.stdout.write(jsonReport(report));
    else process.stdout.write("\n" + summaryTable(report, color));
    return report.conclusion === "success" ? 0 : 1;
  } finally {
    roots.release();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await egress.proxy.close();
    await provisioner.close?.();
  }
}
