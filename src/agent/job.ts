// One assigned job attempt on this agent: a fresh machine from the chosen provisioner, the runner's
// events pushed to the outbox, and a `finished` message once the machine is destroyed.
//
// How it ends decides what is reported:
//  - normally, or on a failure to create the machine: `finished` with the JobResult (failure);
//  - `cancel` from the orchestrator: the machine is destroyed at once, `finished` says cancelled;
//  - `abandon` in a welcome: the machine is destroyed and nothing more is reported (the
//    orchestrator no longer wants this attempt; its outbox is dropped);
//  - agent stop(): the machine is destroyed and no `finished` is written, so the orchestrator's lease
//    expires and it retries the job elsewhere; the output so far stays in the outbox and is resent
//    by the next agent process on this data folder.
//
// The log cap is enforced here, on the node: the job's log and annotation events are counted as
// the orchestrator counts them (the bytes of their log text); the first that would pass the cap is
// replaced by one `log-truncated` event and later ones are dropped before they reach the outbox
// (step events still go: the orchestrator tracks steps with them). The orchestrator's own cap stays
// as a second line of defence.
import { parseAllowList, unionAllowLists, type NodeEgress } from "../egress/index.js";
import type { Assign } from "../protocol/agent.js";
import type { ContainerPolicy } from "../containers/index.js";
import type { MachineLimits, Provisioner } from "../provisioners/types.js";
import { boundedSummaries, eventText, runJobOnNewMachine, type OnMachineOptions } from "../runner/index.js";
import type {
  ActionLoader,
  JobDescription,
  JobResult,
  OutputFlow,
  RunnerEvent,
  WorkspaceSource,
} from "../runner/index.js";
import { guardedProvisioner } from "./guarded.js";
import { openJobServices } from "./job-services.js";
import { releaseSecrets } from "./release.js";
import type { AgentLogger } from "./logger.js";
import type { OutboxPayload } from "./outbox-file.js";
import type { z } from "zod";

export type AssignMsg = z.infer<typeof Assign>;
export type EndReason = "cancel" | "abandon" | "stop";

export interface JobDeps {
  provisioner: Provisioner;
  /** The assigned image's rootfs on this node (leased by the agent for the job's lifetime). */
  rootfs: string;
  actions: ActionLoader;
  source: WorkspaceSource;
  log: AgentLogger;
  /** The pool's egress; the assignment's repository list is added to it for this job. */
  egress?: NodeEgress;
  /** The pool's policy on workflow containers; absent: the default allow-list. */
  containers?: ContainerPolicy;
  push(payload: OutboxPayload): void;
  /** Backpressure from the outbox onto the job's output pipes. */
  flow: OutputFlow;
  logCapBytes: number;
  /** The node's limits for every machine (pids, open files, /dev/shm, /tmp); the flavour adds the rest. */
  limits?: NodeLimits;
  /**
   * The orchestrator, where the job's release token is redeemed once its machine exists and job
   * services forward identity-token requests.
   */
  serverUrl?: string;
  /** The node's current credential: the release of a job's secrets is refused to any other node. */
  nodeCredential?(): string | undefined;
}

/** Limits the node sets for every machine, whatever the flavour (agent options --pids, --nofile, ...). */
export type NodeLimits = Pick<MachineLimits, "pids" | "nofile" | "shmMb" | "tmpMb">;

/** The agent's defaults (README, configuration): GitHub's hosted runners allow 65536 open files. */
export const DEFAULT_NODE_LIMITS = { pids: 4096, nofile: 65536, shmMb: 64, tmpMb: 1024 } as const;

/** A machine's limits: the job's flavour (CPU, memory, disk) plus the node's own. */
export function machineLimits(a: AssignMsg, node: NodeLimits = {}): MachineLimits {
  return { ...node, cpus: a.machine.cpus, memoryMb: a.machine.memoryMb, diskMb: a.machine.diskMb };
}

export class AgentJob {
  readonly jobId: number;
  readonly attempt: number;
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private reason: EndReason | undefined;
  private logBytes = 0;
  private capped = false;

  constructor(
    assign: AssignMsg,
    private readonly deps: JobDeps,
  ) {
    this.jobId = assign.jobId;
    this.attempt = assign.attempt;
    this.done = this.run(assign).catch((err: unknown) => {
      deps.log.error({ jobId: this.jobId, attempt: this.attempt, err: String(err) }, "agent job crashed");
    });
  }

  /** Aborts the job: the machine is destroyed at once (idempotent; the first reason wins). */
  end(reason: EndReason): void {
    this.reason ??= reason;
    this.controller.abort();
  }

  /** Events carry when they happened (`at`, ms since the epoch): the log's timestamps. */
  private emit(payload: OutboxPayload): void {
    if (this.reason === "abandon") return;
    this.deps.push(
      payload.type === "event" ? { ...payload, event: { ...payload.event, at: Date.now() } } : payload,
    );
  }

  /** A runner event, counted against the log cap. */
  private output(event: RunnerEvent): void {
    const textual = event.type === "log" || event.type === "annotation";
    if (textual && this.capped) return;
    const bytes = Buffer.byteLength(eventText(event));
    if (textual && this.logBytes + bytes > this.deps.logCapBytes) {
      this.capped = true;
      this.emit({ type: "event", event: { type: "log-truncated", capBytes: this.deps.logCapBytes } });
      return;
    }
    this.logBytes += bytes;
    this.emit({ type: "event", event: { ...event } });
  }

  /**
   * node ∪ repository. Without a node proxy there is no egress at all; repository entries this
   * agent cannot parse are dropped (fail closed) and said so in the job's log.
   */
  private egressFor(a: AssignMsg): OnMachineOptions["egress"] {
    const node = this.deps.egress;
    if (!node) return undefined;
    const repo = parseAllowList(a.machine.egressAllow ?? []);
    return {
      proxy: node.proxy,
      allow: unionAllowLists(node.allow, repo.list),
      notes: repo.problems.map((p) => `egress: ignoring repository entry ${p}`),
    };
  }

  private async run(a: AssignMsg): Promise<void> {
    const started = Date.now();
    const job = a.job as unknown as JobDescription;
    const log = { jobId: a.jobId, attempt: a.attempt };
    let result: JobResult;
    const egress = this.egressFor(a);
    try {
      // Only a job the orchestrator gave a request token (its permissions grant id-token: write).
      const services =
        (a.idTokenRequest !== undefined || a.runtimeToken !== undefined) && this.deps.serverUrl !== undefined
          ? await openJobServices({
              serverUrl: this.deps.serverUrl,
              ...(a.idTokenRequest !== undefined ? { idTokenRequest: a.idTokenRequest } : {}),
              ...(a.runtimeToken !== undefined ? { runtimeToken: a.runtimeToken } : {}),
            })
          : undefined;
      result = await runJobOnNewMachine(
        guardedProvisioner(this.deps.provisioner, this.controller.signal, this.deps.log),
        {
          name: typeof job.displayName === "string" ? job.displayName : `job ${a.jobId}`,
          root: { kind: "image", path: this.deps.rootfs },
          limits: machineLimits(a, this.deps.limits),
        },
        job,
        {
          actions: this.deps.actions,
          source: this.deps.source,
          signal: this.controller.signal,
          onEvent: (event: RunnerEvent) => this.output(event),
          flow: this.deps.flow,
        },
        {
          destroyOnAbort: true,
          ...(egress ? { egress } : {}),
          ...(this.deps.containers ? { containers: this.deps.containers } : {}),
          ...(services ? { services } : {}),
          prepare: (machineId, description) =>
            releaseSecrets(
              this.deps.serverUrl,
              this.deps.nodeCredential?.(),
              a.releaseToken,
              machineId,
              description,
              this.controller.signal,
            ),
        },
      );
    } catch (err) {
      // A destroyed machine makes the runner fail in many ways; after an abort that is expected.
      if (!this.controller.signal.aborted) {
        this.deps.log.warn({ ...log, err: String(err) }, "job failed before it could finish");
        const text = `airlock: ${err instanceof Error ? err.message : String(err)}`;
        this.emit({ type: "event", event: { type: "log", stream: "system", kind: "line", text } });
      }
      result = { conclusion: "failure", outputs: {}, steps: [], durationMs: Date.now() - started };
    }
    if (this.controller.signal.aborted) result = { ...result, conclusion: "cancelled" };
    if (this.reason === "stop" || this.reason === "abandon") {
      this.deps.log.info({ ...log, reason: this.reason }, "job stopped without reporting a result");
      return;
    }
    // Step summaries within the protocol's bounds (the orchestrator bounds them again).
    const summaries = boundedSummaries(result.summaries);
    this.emit({
      type: "finished",
      result: { ...result, ...(result.summaries !== undefined ? { summaries } : {}) },
    });
    if (result.error !== undefined)
      this.deps.log.warn({ ...log, reason: result.error }, "job went over a limit");
    this.deps.log.info({ ...log, conclusion: result.conclusion }, "job finished");
  }
}
