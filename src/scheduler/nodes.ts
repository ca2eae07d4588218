// Which nodes can run a job, and which one gets it.
//
// The static funnel (independent of current usage, so it is computed once per distinct
// label set + image + flavour and cached by the caller) narrows all nodes step by step; the first
// step that leaves nothing names the wait reason, in this order:
//   has the image → has its provisioner → node's required labels ⊆ job labels →
//   total capacity ≥ flavour → enabled and connected.
// Static configuration problems come first because they never clear by waiting.
// Among the survivors the dynamic pick takes the node with free room for the flavour and the
// most matching labels, then the least loaded (spreads machines), then the lowest id.
// Node labels are preferences: a node with no matching label is still eligible (use required
// labels to reserve a node for some jobs).
import { missingRequired, score, type LabelSet } from "./labels.js";
import * as reasons from "./reasons.js";
import type { FlavourDef, ImageDef, NodeState, Wait } from "./types.js";

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
  image: ImageDef,
  flavour: FlavourDef,
  slots: readonly NodeSlot[],
): Candidate[] | Wait {
  let left = slots.filter((s) => s.node.images.includes(image.name));
  if (left.length === 0) return reasons.noNodeWithImage(image);
  left = left.filter((s) => s.node.provisioners.includes(image.provisioner));
  if (left.length === 0) return reasons.noProvisioner(image);
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
  left = left.filter(
    (s) =>
      s.node.cpus >= flavour.cpus && s.node.memoryMb >= flavour.memoryMb && s.node.diskMb >= flavour.diskMb,
  );
  if (left.length === 0) return reasons.tooSmall(image, flavour);
  const usable = left.filter((s) => s.node.enabled && s.node.connected);
  if (usable.length === 0) {
    return reasons.unavailable(
      image,
      left.map((s) => s.node),
    );
  }
  return usable.map((slot) => ({ slot, score: score(job, slot.node) }));
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
