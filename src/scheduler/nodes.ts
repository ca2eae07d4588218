// Which nodes can run a job, and which one gets it.
//
// The static funnel (independent of current usage, so it is computed once per distinct
// label set + trust + authorizations + image + flavour and cached by the caller) narrows all
// nodes step by step; the first step that leaves nothing names the wait reason, in this order:
//   has the image → has its provisioner → every job label present (hard labels, labels.ts) →
//   node's required labels ⊆ job labels → pool trust tier (untrusted jobs: low-trust pools only;
//   trusted jobs: high-trust pools only, never a tainted node) → pool authorized for the
//   repository (open pools need none) → total capacity ≥ flavour → enabled, connected and not draining.
// Static configuration problems come first because they never clear by waiting.
// Among the survivors the dynamic pick takes the node with free room for the flavour and the
// most matching labels, then the least loaded (spreads machines), then the lowest id.
import { missingOn, missingRequired, providedBy, score, type LabelSet } from "./labels.js";
import * as reasons from "./reasons.js";
import {
  DEFAULT_POOL,
  type FlavourDef,
  type ImageDef,
  type JobToPlace,
  type NodeState,
  type Wait,
} from "./types.js";

/** A node during one placeJobs call: usage grows as jobs are placed; the input is never mutated. */
export interface NodeSlot {
  node: NodeState;
  usedCpus: number;
  usedMemoryMb: number;
  usedDiskMb: number;
  /** Job id of an earlier job that waits for room on this node; later jobs must not take it. */
  heldFor?: number;
}

export interface Candidate {
  slot: NodeSlot;
  score: number;
}

/** Sorted by id, so messages listing nodes or their labels do not depend on input order. */
export function slotsOf(nodes: readonly NodeState[]): NodeSlot[] {
  return [...nodes]
    .sort((a, b) => a.id - b.id)
    .map((node) => ({
      node,
      usedCpus: node.usedCpus,
      usedMemoryMb: node.usedMemoryMb,
      usedDiskMb: node.usedDiskMb,
    }));
}

export function eligibleNodes(
  job: LabelSet,
  spec: Pick<JobToPlace, "labels" | "trust" | "pools">,
  image: ImageDef,
  flavour: FlavourDef,
  slots: readonly NodeSlot[],
): Candidate[] | Wait {
  let left = slots.filter((s) => s.node.images.includes(image.name));
  if (left.length === 0) return reasons.noNodeWithImage(image);
  left = left.filter((s) => s.node.provisioners.includes(image.provisioner));
  if (left.length === 0) return reasons.noProvisioner(image);
  const provided = providedBy(image, flavour);
  const missing = left.map((s) => missingOn(spec.labels, provided, s.node));
  left = left.filter((_, i) => missing[i]?.length === 0);
  if (left.length === 0) return reasons.missingLabels(spec.labels, missing);
  const withImage = left;
  left = left.filter((s) => missingRequired(job, s.node).length === 0);
  if (left.length === 0) {
    const missing = [...new Set(withImage.flatMap((s) => missingRequired(job, s.node)))];
    return reasons.nodesRequire(
      image,
      withImage.map((s) => s.node),
      missing,
    );
  }
  const trusted = left.filter(inTier(spec));
  if (trusted.length === 0) {
    if (spec.trust === "untrusted") return reasons.noLowTrustPool();
    return reasons.noHighTrustNode(
      image,
      left.filter((s) => poolOf(s.node).trust === "high").map((s) => s.node),
    );
  }
  const granted = new Set(spec.pools ?? []);
  left = trusted.filter((s) => poolOf(s.node).open || granted.has(poolOf(s.node).name));
  if (left.length === 0)
    return reasons.awaitingAuthorization([...new Set(trusted.map((s) => poolOf(s.node).name))].sort());
  left = left.filter(
    (s) =>
      s.node.cpus >= flavour.cpus && s.node.memoryMb >= flavour.memoryMb && s.node.diskMb >= flavour.diskMb,
  );
  if (left.length === 0) return reasons.tooSmall(image, flavour);
  const usable = left.filter((s) => s.node.enabled && s.node.connected && !s.node.draining);
  if (usable.length === 0) {
    return reasons.unavailable(
      image,
      left.map((s) => s.node),
    );
  }
  return usable.map((slot) => ({ slot, score: score(job, slot.node) }));
}

const poolOf = (n: NodeState) => n.pool ?? DEFAULT_POOL;

/**
 * Untrusted jobs run only in low-trust pools; trusted jobs only in high-trust pools and never on a
 * node that ran low-trust work (Drydock: high-trust work never shares a host with low-trust work).
 */
function inTier(spec: Pick<JobToPlace, "trust">): (s: NodeSlot) => boolean {
  return spec.trust === "untrusted"
    ? (s) => poolOf(s.node).trust === "low"
    : (s) => poolOf(s.node).trust === "high" && !s.node.tainted;
}

export function fits(slot: NodeSlot, f: FlavourDef): boolean {
  const n = slot.node;
  return (
    n.cpus - slot.usedCpus >= f.cpus &&
    n.memoryMb - slot.usedMemoryMb >= f.memoryMb &&
    n.diskMb - slot.usedDiskMb >= f.diskMb
  );
}

/** The busiest resource's share in use, 0..1 (or more if a node reports more than it has). */
export function load(slot: NodeSlot): number {
  const share = (used: number, cap: number): number => (cap > 0 ? used / cap : used > 0 ? 1 : 0);
  const n = slot.node;
  return Math.max(
    share(slot.usedCpus, n.cpus),
    share(slot.usedMemoryMb, n.memoryMb),
    share(slot.usedDiskMb, n.diskMb),
  );
}

/** Most matching labels, then least loaded, then lowest id. */
export function pickNode(candidates: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  let bestLoad = 0;
  for (const c of candidates) {
    const l = load(c.slot);
    if (
      best === undefined ||
      c.score > best.score ||
      (c.score === best.score && (l < bestLoad || (l === bestLoad && c.slot.node.id < best.slot.node.id)))
    ) {
      best = c;
      bestLoad = l;
    }
  }
  return best;
}

export function take(slot: NodeSlot, f: FlavourDef): void {
  slot.usedCpus += f.cpus;
  slot.usedMemoryMb += f.memoryMb;
  slot.usedDiskMb += f.diskMb;
}
