// Runs one job on a fresh single-use machine: create, run, destroy — destroy also on failure and
// on cancel. The local `airlock run` and the node agent both use it. With egress, the machine
// gets its own session of the egress proxy (closed after the machine is destroyed), and every
// connection the proxy allows or refuses becomes a system line of the job's log. What the job gets
// on its machine (`prepare`: on a server run its secrets, released for one machine id only) is
// asked for once: by the provisioner, with the id it is about to use, when the job container's
// image is pulled with `credentials:`; else once the machine exists.
import { recordLine, type AllowList, type EgressProxy, type EgressSession } from "../egress/index.js";
import type { MachineSpec, Provisioner, Machine } from "../provisioners/types.js";
import { checkJobContainers, type ContainerPolicy } from "../containers/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { evaluateToString } from "../expressions/index.js";
import { runJob } from "./job.js";
import type { HostLog, JobDescription, JobResult, JobRuntime, RunnerDeps } from "./types.js";

export interface OnMachineOptions {
  /**
   * Destroy the machine as soon as the signal aborts (every process dies at once, no `always()`
   * steps): what a cancel from the orchestrator means. Without it, an abort lets the runner finish
   * the job's `always()`/`cancelled()` steps first, like Ctrl-C of a local run.
   */
  destroyOnAbort?: boolean;
  /** Called once the machine exists (e.g. to report "machine created"). */
  onMachine?(machine: Machine): void;
  /**
   * Network egress through `proxy`, limited to `allow` (node ∪ repository, decided by the node,
   * never by the job). Absent or an empty list: the machine has no network at all.
   */
  egress?: { proxy: EgressProxy; allow: AllowList; notes?: string[] };
  /** The node's job services for this job; absent: none (no variables). */
  services?: MachineServices;
  /**
   * What the job gets on the machine with this id (e.g. its secrets, released for that machine
   * only). Called at most once per job: when the job container's image is pulled with
   * `credentials:` (before the machine exists, with the id the provisioner is about to give it),
   * else once the machine exists; the job then runs with the same answer. A throw fails the job
   * (and the machine, if made, is destroyed).
   */
  prepare?: (machineId: string, job: JobDescription) => Promise<JobDescription>;
  /**
   * What the pool allows of `container:` / `services:` beyond the default allow-list
   * (src/containers/options.ts); absent: the default. Checked before the machine is created.
   */
  containers?: ContainerPolicy;
}

/**
 * The node's job services for one machine (src/agent/job-services.ts): a host unix socket the
 * machine reaches at `Machine.servicesUrl`, the variables and secrets it gives the job once that
 * URL is known, and close (after the machine is destroyed). Owned by the caller until handed here;
 * runJobOnNewMachine closes it in every case.
 */
export interface MachineServices {
  readonly socketPath: string;
  runtime(servicesUrl: string): JobRuntime;
  close(): Promise<void>;
}

/** Buffers lines until the runner attaches (bounded), then forwards them until it detaches. */
class LineQueue implements HostLog {
  private pending: string[] = [];
  private sink: ((text: string) => void) | undefined;
  private done = false;

  push(text: string): void {
    if (this.sink) this.sink(text);
    else if (!this.done && this.pending.length < 1000) this.pending.push(text);
  }

  attach(sink: (text: string) => void): () => void {
    this.sink = sink;
    for (const t of this.pending.splice(0)) sink(t);
    return () => {
      this.sink = undefined;
      this.done = true;
    };
  }
}

export async function runJobOnNewMachine(
  provisioner: Provisioner,
  spec: MachineSpec,
  job: JobDescription,
  deps: Omit<RunnerDeps, "machine">,
  opts: OnMachineOptions = {},
): Promise<JobResult> {
  // The pool's policy on the job's containers, before anything exists (CONTAINER_OPTION_REFUSED).
  job = checkJobContainers(job, opts.containers);
  const prepared = preparedOnce(job, opts.prepare);
  if (job.container) spec = { ...spec, jobContainer: jobContainerSpec(job, prepared) };
  const hostLog = new LineQueue();
  for (const note of opts.egress?.notes ?? []) hostLog.push(note);
  let session: EgressSession | undefined;
  if (opts.egress && opts.egress.allow.rules.length > 0) {
    session = await opts.egress.proxy.open(opts.egress.allow, (r) => hostLog.push(recordLine(r)));
    spec = { ...spec, egress: { allow: opts.egress.allow.entries, proxySocket: session.socketPath } };
  }
  const services = opts.services;
  if (services) spec = { ...spec, services: { socket: services.socketPath } };
  let machine: Machine;
  try {
    machine = await provisioner.create(spec);
  } catch (e) {
    await session?.close();
    await services?.close();
    throw e;
  }
  const runtime =
    services && machine.servicesUrl !== undefined ? services.runtime(machine.servicesUrl) : undefined;
  const destroyNow = (): void => {
    // The finally below awaits the same (idempotent) destroy and reports its failure.
    machine.destroy().catch(() => undefined);
  };
  if (opts.destroyOnAbort) deps.signal?.addEventListener("abort", destroyNow, { once: true });
  try {
    opts.onMachine?.(machine);
    const ready = await prepared(machine.id);
    return await runJob(ready, { ...deps, machine, hostLog, ...(runtime ? { runtime } : {}) });
  } finally {
    deps.signal?.removeEventListener("abort", destroyNow);
    try {
      await machine.destroy();
    } finally {
      await session?.close();
      await services?.close();
    }
  }
}

/**
 * `prepare` memoized for one machine id: a release token is redeemed once, bound to one machine,
 * so the pull's credentials and the job itself must share that one answer. Another id is refused
 * (a provisioner that pulled for one machine and created another would be a bug, not a retry).
 */
function preparedOnce(
  job: JobDescription,
  prepare: OnMachineOptions["prepare"],
): (machineId: string) => Promise<JobDescription> {
  let done: { id: string; job: Promise<JobDescription> } | undefined;
  return (machineId) => {
    if (done && done.id !== machineId)
      return Promise.reject(
        new AirlockError(
          ErrorCode.SECRET_UNREADABLE,
          `the job's secrets were released for machine ${done.id}, not ${machineId}`,
        ),
      );
    done ??= { id: machineId, job: prepare ? prepare(machineId, job) : Promise.resolve(job) };
    return done.job;
  };
}

/**
 * The job container for the provisioner: its `env` is given by the runner to every process, so the
 * machine gets none; its `credentials` are evaluated only when the provisioner pulls the image,
 * with the contexts GitHub gives them and the job's secrets as `prepared` gives them for the
 * machine about to be created (on a server run: released for that machine id).
 */
function jobContainerSpec(
  job: JobDescription,
  prepared: (machineId: string) => Promise<JobDescription>,
): NonNullable<MachineSpec["jobContainer"]> {
  const { env: _env, credentials, ...rest } = job.container!;
  if (!credentials) return { ...rest, env: {} };
  return {
    ...rest,
    env: {},
    async credentials(machineId) {
      const c = (await prepared(machineId)).contexts;
      const ctx = {
        github: c.github,
        needs: c.needs,
        strategy: c.strategy,
        matrix: c.matrix ?? {},
        vars: c.vars,
        secrets: c.secrets,
        inputs: c.inputs,
      };
      const host = { contexts: Object.keys(ctx) };
      return {
        username: evaluateToString(credentials.username, ctx, host),
        password: evaluateToString(credentials.password, ctx, host),
      };
    },
  };
}
