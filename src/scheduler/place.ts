// placeJobs: places a FIFO batch of queued jobs, or says precisely why each one waits.
//
// Per job, in order; the first check that fails is the wait reason shown:
//   0. a deployment whose run's independent rebuilds are under way (REBUILDS_PENDING); any other
//      job of such a run is kept off deploy pools' nodes, and waits (REBUILDS_PENDING) after step 3
//      when only those could take it; a rebuild is never placed there (NO_REPLICA_NODE)
//   1. image   — chooseBest over images   (NO_IMAGE, IMAGE_REQUIRES_LABEL; NO_CONTAINER_IMAGE when
//                a job with `container:`/`services:` matches only images of other provisioners)
//   2. flavour — chooseBest over flavours (NO_FLAVOUR, FLAVOUR_REQUIRES_LABEL)
//   3. nodes, static — see nodes.ts (NO_NODE_WITH_IMAGE, NO_NODE_WITH_PROVISIONER,
//      NO_NODE_WITH_LABELS, NODE_REQUIRES_LABEL, NO_LOW_TRUST_POOL, NO_HIGH_TRUST_NODE,
//      AWAITING_AUTHORIZATION, NO_NODE_LARGE_ENOUGH, NODES_UNAVAILABLE)
//   4. limits — project, then organization (PROJECT_LIMIT, ORGANIZATION_LIMIT)
//   5. room   — a node with free capacity (NODES_FULL, NODES_HELD)
// Problems that need an operator (1–3) outrank those that clear by waiting (4–5); a limit
// outranks full nodes because even with room the job would not start.
//
// Within a batch node usage and running counts grow with every placement, so a batch never
// overcommits a node or exceeds a limit. FIFO fairness: a job that waits only for room holds
// one node (its best candidate) for the rest of the batch, so later smaller jobs cannot keep
// filling that node and starve it; they go elsewhere or wait with NODES_HELD. Jobs waiting for
// configuration or limits hold nothing, so they never block others.
//
// Cost: image, flavour and the static node funnel are computed once per distinct label list
// (cached), so a batch costs O(distinct label lists × (images + flavours + nodes) + jobs × nodes).
import { blockedByRequired, chooseBestIn, labelSet, type LabelSet } from "./labels.js";
import { eligibleNodes, fits, pickNode, slotsOf, take, type Candidate, type NodeSlot } from "./nodes.js";
import * as reasons from "./reasons.js";
import {
  CONTAINER_PROVISIONERS,
  type FlavourDef,
  type ImageDef,
  type JobToPlace,
  type Limits,
  type NodeState,
  type Placement,
  type Wait,
} from "./types.js";

interface Choice {
  image: ImageDef;
  flavour: FlavourDef;
  candidates: Candidate[];
}

function chooseFor(
  job: LabelSet,
  spec: JobToPlace,
  images: readonly ImageDef[],
  flavours: readonly FlavourDef[],
  slots: readonly NodeSlot[],
): Choice | Wait {
  // A job with containers chooses among the images that can run them; the others are not in the
  // running (so a sandbox image with better-matching labels cannot take it and fail at start).
  const usable = spec.containers ? images.filter((i) => CONTAINER_PROVISIONERS.has(i.provisioner)) : images;
  const image = chooseBestIn(job, usable);
  if (!image) {
    const other = usable === images ? undefined : chooseBestIn(job, images);
    if (other) return reasons.noContainerImage(spec.labels, other);
    const blocked = blockedByRequired(job, usable);
    return blocked
      ? reasons.requires("image", blocked.candidate.name, blocked.missing)
      : reasons.noMatch("image", spec.labels, usable.length);
  }
  const flavour = chooseBestIn(job, flavours);
  if (!flavour) {
    const blocked = blockedByRequired(job, flavours);
    return blocked
      ? reasons.requires("flavour", blocked.candidate.name, blocked.missing)
      : reasons.noMatch("flavour", spec.labels, flavours.length);
  }
  const candidates = eligibleNodes(job, spec, image, flavour, slots);
  return Array.isArray(candidates) ? { image, flavour, candidates } : candidates;
}

class Counter {
  private readonly counts: Map<number, number>;
  constructor(
    running: ReadonlyMap<number, number>,
    private readonly limits: ReadonlyMap<number, number | null>,
  ) {
    this.counts = new Map(running);
  }
  /** The limit that is reached for this key, if any. */
  reached(key: number): number | undefined {
    const limit = this.limits.get(key);
    return limit != null && (this.counts.get(key) ?? 0) >= limit ? limit : undefined;
  }
  add(key: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

function waiting(jobId: number, w: Wait): Placement {
  return { jobId, waitReason: w.reason, waitCode: w.code, ...(w.pools ? { pools: w.pools } : {}) };
}

export function placeJobs(
  jobs: readonly JobToPlace[],
  images: readonly ImageDef[],
  flavours: readonly FlavourDef[],
  nodes: readonly NodeState[],
  limits: Limits,
): Placement[] {
  const slots = slotsOf(nodes);
  const projects = new Counter(limits.projectRunning, limits.projectLimit);
  const organizations = new Counter(limits.organizationRunning, limits.organizationLimit);
  // Keyed by the label list as written (so messages quote each job's own spelling), the trust
  // tier and the authorized pools.
  const choices = new Map<string, Choice | Wait>();
  // Operators given a replica of a job in this batch: its other replicas go elsewhere.
  const replicaOperators = new Map<number, Set<string>>();

  return jobs.map((job): Placement => {
    if (job.awaitingRebuilds) return waiting(job.id, reasons.rebuildsPending());
    const key = JSON.stringify([
      job.labels,
      job.trust ?? "trusted",
      [...(job.pools ?? [])].sort(),
      job.containers === true,
    ]);
    let choice = choices.get(key);
    if (!choice) {
      choice = chooseFor(labelSet(job.labels), job, images, flavours, slots);
      choices.set(key, choice);
    }
    if ("code" in choice) return waiting(job.id, choice);
    const { image, flavour } = choice;
    let candidates = choice.candidates;
    if (job.runRebuildsPending || job.replica) {
      // A deploy pool's job consumes only promotable artifacts: not before the verdict. A rebuild
      // never goes there (it would be refused its job's inputs, and deploy credentials are not
      // for rebuilding other operators' builds).
      const deployPools = candidates.flatMap((c) =>
        c.slot.node.pool?.deploy ? [c.slot.node.pool.name] : [],
      );
      if (deployPools.length > 0) {
        candidates = candidates.filter((c) => c.slot.node.pool?.deploy !== true);
        if (candidates.length === 0)
          return waiting(
            job.id,
            job.replica
              ? reasons.rebuildOffDeployPools([...new Set(deployPools)].sort())
              : reasons.rebuildsPendingDeployPools([...new Set(deployPools)].sort()),
          );
      }
    }
    const replica = job.replica;
    if (replica) {
      const taken = replicaOperators.get(replica.of);
      const excluded = new Set([...replica.excludeOperators, ...(taken ?? [])]);
      candidates = candidates.filter(
        (c) =>
          !excluded.has(c.slot.node.operator ?? "") &&
          (!replica.trustedWorker || (c.slot.node.workerTrust ?? "trusted") === "trusted"),
      );
      if (candidates.length === 0)
        return waiting(job.id, reasons.noReplicaNode(replica.trustedWorker, [...excluded].sort()));
    }

    const projectLimit = projects.reached(job.projectId);
    if (projectLimit !== undefined) return waiting(job.id, reasons.projectLimit(projectLimit));
    const organizationLimit = organizations.reached(job.organizationId);
    if (organizationLimit !== undefined) return waiting(job.id, reasons.organizationLimit(organizationLimit));

    const roomy = candidates.filter((c) => fits(c.slot, flavour));
    const best = pickNode(roomy.filter((c) => c.slot.heldFor === undefined));
    if (best) {
      take(best.slot, flavour);
      if (replica) {
        const taken = replicaOperators.get(replica.of) ?? new Set<string>();
        taken.add(best.slot.node.operator ?? "");
        replicaOperators.set(replica.of, taken);
      }
      projects.add(job.projectId);
      organizations.add(job.organizationId);
      return { jobId: job.id, image, flavour, node: best.slot.node };
    }
    if (roomy.length > 0) {
      return waiting(
        job.id,
        reasons.held(new Map(roomy.map((c) => [c.slot.node.name, c.slot.heldFor ?? 0]))),
      );
    }
    const hold = pickNode(candidates.filter((c) => c.slot.heldFor === undefined));
    if (hold) hold.slot.heldFor = job.id;
    return waiting(
      job.id,
      reasons.full(
        image,
        flavour,
        candidates.map((c) => c.slot.node),
      ),
    );
  });
}

/**
 * Why this one job would wait if it were alone in the queue right now (undefined: it would be
 * placed). For a queue, prefer the reasons placeJobs returns: they account for earlier jobs.
 */
export function explainWait(
  job: JobToPlace,
  images: readonly ImageDef[],
  flavours: readonly FlavourDef[],
  nodes: readonly NodeState[],
  limits: Limits,
): Wait | undefined {
  const [p] = placeJobs([job], images, flavours, nodes, limits);
  return p && "waitCode" in p
    ? { code: p.waitCode, reason: p.waitReason, ...(p.pools ? { pools: p.pools } : {}) }
    : undefined;
}
