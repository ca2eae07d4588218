// The dispatcher: claims queued jobs (FOR UPDATE SKIP LOCKED, oldest first), places them with the
// scheduler on connected nodes without overstepping capacity or concurrency limits, records why
// the others wait, and sends the placed ones to their agents. Woken by events (job queued, node
// connected, job finished); a slow timer is only a safety net.
import { issueReleaseTokens } from "../secrets/index.js";
import type pg from "pg";
import type { Logger } from "pino";
import {
  assignJobs,
  claimQueuedJobs,
  rejectJob,
  nodeUsage,
  OPERATOR_KEY,
  runningCounts,
  setWaitReasons,
} from "../queue/index.js";
import { isPlaced, placeJobs, WaitCode, type NodeState, type Placement } from "../scheduler/index.js";
import type { ClaimedJob } from "../queue/index.js";
import { appendAudit } from "../audit/index.js";
import { authorizedPools, requestAuthorizations, taintNodes } from "./pools/index.js";
import { mintRequestTokens } from "../job-identity/index.js";
import { listFlavours, listImages, repositoryEgress, type Image } from "./catalog/index.js";
import type { CoreConfig } from "./config.js";
import type { WsAgentHub } from "./agent-hub.js";

/** Mints the runtime token of a job attempt with the dispatch transaction's client. */
export type RuntimeTokenMinter = (db: pg.PoolClient, jobId: number, attempt: number) => Promise<string>;

export class Dispatcher {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  /** After a full batch: the last job claimed, so the next round looks behind that batch. */
  private after: number | undefined;

  constructor(
    private readonly d: {
      pool: pg.Pool;
      config: CoreConfig;
      logger: Logger;
      hub: WsAgentHub;
      runtimeToken?: RuntimeTokenMinter;
    },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), 1000);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle;
  }

  /** Asks for a dispatch round soon; rounds never overlap, wake-ups during one cause one more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          const full = await this.round().catch((err: unknown) => {
            this.d.logger.error({ err }, "dispatch round failed");
            return false;
          });
          if (full) this.again = true;
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }

  /** One round; true when the batch was full (more may be waiting). */
  private async round(): Promise<boolean> {
    const { pool, config, hub } = this.d;
    const client = await pool.connect();
    let sends: Array<() => void>;
    let full: boolean;
    try {
      await client.query("BEGIN");
      const claimed = await claimQueuedJobs(client, config.dispatchBatch, this.after);
      this.after = undefined;
      full = claimed.length === config.dispatchBatch;
      if (claimed.length === 0) {
        await client.query("COMMIT");
        return false;
      }
      // One client runs one query at a time.
      const images = await listImages(client);
      const flavours = await listFlavours(client);
      const nodes = await this.loadNodes(client);
      const limits = await loadLimits(client);
      const egress = await repositoryEgress(client, [...new Set(claimed.map((c) => c.repositoryId))]);
      const egressOf = new Map(claimed.map((c) => [c.id, egress.get(c.repositoryId) ?? []]));
      const granted = await authorizedPools(client, [...new Set(claimed.map((c) => c.repositoryId))]);
      const jobs = claimed.map((c) => ({
        ...c,
        projectId: c.repositoryId,
        pools: granted.get(c.repositoryId) ?? [],
      }));
      const placements = placeJobs(jobs, images, flavours, nodes, limits);
      const placed = placements.filter(isPlaced);
      // After a full batch the next round goes on behind it: claiming the same batch again would
      // get the same answers, hide the jobs behind it and spin. Jobs that wait for configuration
      // or limits block no one, but a job waiting for room holds its node (the scheduler's FIFO
      // fairness): then nothing behind it goes ahead until an event or the timer wakes us.
      if (full) {
        const holds = placements.some(
          (p) => !isPlaced(p) && (p.waitCode === WaitCode.NODES_FULL || p.waitCode === WaitCode.NODES_HELD),
        );
        if (holds) full = false;
        else this.after = claimed.at(-1)?.id;
      }
      const assigned = await assignJobs(
        client,
        placed.map((p) => ({
          jobId: p.jobId,
          nodeId: p.node.id,
          imageId: p.image.id,
          flavourId: p.flavour.id,
        })),
        config.leaseMs,
      );
      // A node given a low-trust job never runs a trusted one again until it is re-registered.
      const untrusted = new Set(claimed.filter((c) => c.trust === "untrusted").map((c) => c.id));
      const assignedIds = new Set(assigned.map((a) => a.jobId));
      await taintNodes(
        client,
        placed.filter((p) => untrusted.has(p.jobId) && assignedIds.has(p.jobId)).map((p) => p.node.id),
      );
      await this.requestAuthorizations(client, claimed, placements);
      const idTokenRequests = await mintRequestTokens(client, assigned);
      // Every attempt's ACTIONS_RUNTIME_TOKEN (artifacts and caches), read by the orchestrator's
      // services only while the attempt is assigned or running.
      const runtimeTokens = new Map<number, string>();
      // A job without one just has no artifact or cache services: never a reason to hold the queue.
      if (this.d.runtimeToken)
        for (const a of assigned) {
          try {
            runtimeTokens.set(a.jobId, await this.d.runtimeToken(client, a.jobId, a.attempt));
          } catch (err) {
            this.d.logger.error({ err, jobId: a.jobId }, "no runtime token for the job");
          }
        }
      // Jobs with sealed secrets get a one-time release token for this attempt (its hash stored
      // in this transaction), redeemed by the node once it has made the machine.
      const releaseTokens = await issueReleaseTokens(
        client,
        assigned.filter(
          (a) =>
            Object.keys(a.description.sealedSecrets ?? {}).length > 0 ||
            a.description.sealedSource !== undefined,
        ),
      );
      const waiting = placements.flatMap((p) =>
        isPlaced(p) ? [] : [{ jobId: p.jobId, reason: p.waitReason }],
      );
      if (waiting.length > 0) await setWaitReasons(client, waiting);
      await client.query("COMMIT");
      const byJob = new Map(placed.map((p) => [p.jobId, p]));
      sends = assigned.map((a) => () => {
        const p = byJob.get(a.jobId);
        if (!p) return;
        const image = p.image as Image;
        const sent = hub.assign(p.node.id, {
          type: "assign",
          jobId: a.jobId,
          attempt: a.attempt,
          job: a.description as unknown as Record<string, unknown>,
          machine: {
            provisioner: image.provisioner,
            image: image.name,
            cpus: p.flavour.cpus,
            memoryMb: p.flavour.memoryMb,
            diskMb: p.flavour.diskMb,
            egressAllow: egressOf.get(a.jobId) ?? [],
          },
          leaseMs: config.leaseMs,
          logCapBytes: config.logCapBytes,
          ...(idTokenRequests.has(a.jobId) ? { idTokenRequest: idTokenRequests.get(a.jobId) } : {}),
          ...(releaseTokens.has(a.jobId) ? { releaseToken: releaseTokens.get(a.jobId)! } : {}),
          ...(runtimeTokens.has(a.jobId) ? { runtimeToken: runtimeTokens.get(a.jobId)! } : {}),
        });
        // The node went away between placing and sending: back to the queue at once (not counted
        // as an attempt) instead of waiting for the lease to expire.
        if (!sent) {
          void rejectJob(this.d.pool, a.jobId, a.attempt, "disconnected before the job reached it")
            .then((requeued) => requeued && this.wake())
            .catch((err: unknown) =>
              this.d.logger.error({ err, jobId: a.jobId }, "requeue after a failed send"),
            );
        }
      });
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    // Sent after the commit: an agent can never report on a job the database has not assigned yet.
    for (const s of sends) s();
    return full;
  }

  /** The first time a job could run only in closed pools, its repository asks for them. */
  private async requestAuthorizations(
    db: pg.PoolClient,
    claimed: readonly ClaimedJob[],
    placements: readonly Placement[],
  ): Promise<void> {
    const repoOf = new Map(claimed.map((c) => [c.id, c.repositoryId]));
    const wanted = new Map<number, Set<string>>();
    for (const p of placements) {
      if (isPlaced(p) || p.waitCode !== WaitCode.AWAITING_AUTHORIZATION || !p.pools) continue;
      const repo = repoOf.get(p.jobId);
      if (repo === undefined) continue;
      const set = wanted.get(repo) ?? new Set<string>();
      p.pools.forEach((x) => set.add(x));
      wanted.set(repo, set);
    }
    for (const [repo, pools] of wanted) {
      const made = await requestAuthorizations(db, repo, [...pools]);
      for (const a of made) {
        this.d.logger.info({ repository: a.repository, pool: a.pool }, "pool authorization requested");
        await appendAudit(db, {
          actor: { kind: "system" },
          action: "authorization.requested",
          object: { kind: "authorization", id: a.id },
          details: { repository: a.repository, pool: a.pool },
        });
      }
    }
  }

  private async loadNodes(db: pg.PoolClient): Promise<NodeState[]> {
    const usage = await nodeUsage(db);
    const { rows } = await db.query<{
      id: string;
      name: string;
      labels: string[];
      required_labels: string[];
      enabled: boolean;
      cpus: string;
      memory_mb: number;
      disk_mb: number;
      images: string[];
      provisioners: string[];
      pool: string;
      trust: "low" | "high";
      open: boolean;
      deploy: boolean;
      tainted: boolean;
      operator: string;
      worker_trust: "trusted" | "untrusted";
    }>(
      // A revoked node is never a candidate, even for the moment its connection takes to close.
      `SELECT n.id, n.name, n.labels, n.required_labels, (n.enabled AND n.revoked_at IS NULL) AS enabled, n.cpus,
              n.memory_mb, n.disk_mb, n.images, n.provisioners, p.name AS pool, p.trust, p.open, p.deploy,
              n.tainted_at IS NOT NULL AS tainted, ${OPERATOR_KEY} AS operator, n.worker_trust
         FROM nodes n JOIN pools p ON p.id = n.pool_id`,
    );
    return rows.map((r) => {
      const id = Number(r.id);
      const u = usage.get(id);
      return {
        id,
        name: r.name,
        labels: r.labels,
        requiredLabels: r.required_labels,
        enabled: r.enabled,
        // A stopping agent finishes what it runs and takes nothing new: not placeable, like a drained node.
        draining: this.d.hub.isDraining(id),
        connected: this.d.hub.isConnected(id),
        cpus: Number(r.cpus),
        memoryMb: r.memory_mb,
        diskMb: r.disk_mb,
        usedCpus: u?.cpus ?? 0,
        usedMemoryMb: u?.memoryMb ?? 0,
        usedDiskMb: u?.diskMb ?? 0,
        images: r.images,
        provisioners: r.provisioners,
        pool: { name: r.pool, trust: r.trust, open: r.open, deploy: r.deploy },
        tainted: r.tainted,
        operator: r.operator,
        workerTrust: r.worker_trust,
      };
    });
  }
}

async function loadLimits(db: pg.PoolClient): Promise<Parameters<typeof placeJobs>[4]> {
  const counts = await runningCounts(db);
  const repos = await db.query<{ id: string; max: number | null }>(
    `SELECT id, max_concurrent_jobs AS max FROM repositories`,
  );
  const orgs = await db.query<{ id: string; max: number | null }>(
    `SELECT id, max_concurrent_jobs AS max FROM organizations`,
  );
  return {
    projectRunning: counts.byRepository,
    organizationRunning: counts.byOrganization,
    projectLimit: new Map(repos.rows.map((r) => [Number(r.id), r.max])),
    organizationLimit: new Map(orgs.rows.map((r) => [Number(r.id), r.max])),
  };
}
