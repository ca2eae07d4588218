// The sentences a waiting job shows, built in one place so wording stays consistent. Every
// sentence names the object at fault and the label, resource or limit that blocks it.
import { WaitCode, type FlavourDef, type ImageDef, type NodeState, type Wait } from "./types.js";

const quote = (s: string): string => `\`${s}\``;
const quoteAll = (xs: readonly string[]): string => xs.map(quote).join(", ");
const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

export function needs(f: FlavourDef): string {
  return `needs ${f.cpus} CPU, ${f.memoryMb} MiB memory, ${f.diskMb} MiB disk`;
}

export function noMatch(kind: "image" | "flavour", jobLabels: readonly string[], configured: number): Wait {
  const code = kind === "image" ? WaitCode.NO_IMAGE : WaitCode.NO_FLAVOUR;
  if (configured === 0) return { code, reason: `no ${kind}s are configured` };
  if (jobLabels.length === 0)
    return { code, reason: `no default ${kind} (one without labels) for a job without labels` };
  return { code, reason: `no ${kind} matches labels [${jobLabels.join(", ")}]` };
}

/** Labels match only images whose provisioner cannot run the job's `container:`/`services:`. */
export function noContainerImage(jobLabels: readonly string[], matched: ImageDef): Wait {
  return {
    code: WaitCode.NO_CONTAINER_IMAGE,
    reason: `the job uses \`container:\` or \`services:\`, but the image matching labels [${jobLabels.join(", ")}] (${quote(matched.name)}) has provisioner ${quote(matched.provisioner)}: it needs an image with provisioner \`container\``,
  };
}

export function requires(kind: "image" | "flavour", name: string, missing: readonly string[]): Wait {
  const code = kind === "image" ? WaitCode.IMAGE_REQUIRES_LABEL : WaitCode.FLAVOUR_REQUIRES_LABEL;
  return {
    code,
    reason: `${kind} ${quote(name)} requires ${plural(missing.length, "label", "labels")} ${quoteAll(missing)}`,
  };
}

export function noNodeWithImage(image: ImageDef): Wait {
  return { code: WaitCode.NO_NODE_WITH_IMAGE, reason: `no node has image ${quote(image.name)}` };
}

export function noProvisioner(image: ImageDef): Wait {
  return {
    code: WaitCode.NO_NODE_WITH_PROVISIONER,
    reason: `no node with image ${quote(image.name)} has provisioner ${quote(image.provisioner)}`,
  };
}

export function nodesRequire(image: ImageDef, nodes: readonly NodeState[], missing: readonly string[]): Wait {
  const [only] = nodes;
  const labels = `${plural(missing.length, "label", "labels")} ${quoteAll(missing)}`;
  return {
    code: WaitCode.NODE_REQUIRES_LABEL,
    reason:
      nodes.length === 1 && only
        ? `node ${quote(only.name)} requires ${labels}`
        : `all ${nodes.length} nodes with image ${quote(image.name)} require ${labels} missing on the job`,
  };
}

export function tooSmall(image: ImageDef, flavour: FlavourDef): Wait {
  return {
    code: WaitCode.NO_NODE_LARGE_ENOUGH,
    reason: `no node with image ${quote(image.name)} is large enough for flavour ${quote(flavour.name)} (${needs(flavour)})`,
  };
}

/** Every node that could run the job is disabled, not connected or stopping (its agent drains). */
export function unavailable(image: ImageDef, nodes: readonly NodeState[]): Wait {
  const code = WaitCode.NODES_UNAVAILABLE;
  const [only] = nodes;
  if (nodes.length === 1 && only) {
    if (only.enabled && only.connected && only.draining)
      return {
        code,
        reason: `node ${quote(only.name)} is stopping: it finishes its running jobs and takes no new ones`,
      };
    return { code, reason: `node ${quote(only.name)} is ${only.enabled ? "not connected" : "disabled"}` };
  }
  const disabled = nodes.filter((n) => !n.enabled).length;
  const stopping = nodes.filter((n) => n.enabled && n.connected && n.draining).length;
  const offline = nodes.length - disabled - stopping;
  if (stopping > 0) {
    const counts = [
      ...(disabled > 0 ? [`${disabled} disabled`] : []),
      ...(offline > 0 ? [`${offline} not connected`] : []),
      `${stopping} stopping`,
    ];
    return { code, reason: `no node with image ${quote(image.name)} takes new jobs (${counts.join(", ")})` };
  }
  if (offline === 0)
    return { code, reason: `no enabled node has image ${quote(image.name)} (${disabled} disabled)` };
  if (disabled === 0)
    return { code, reason: `no connected node has image ${quote(image.name)} (${offline} not connected)` };
  return {
    code,
    reason: `no enabled, connected node has image ${quote(image.name)} (${disabled} disabled, ${offline} not connected)`,
  };
}

export function projectLimit(limit: number): Wait {
  return { code: WaitCode.PROJECT_LIMIT, reason: `project limit ${limit} reached` };
}

export function organizationLimit(limit: number): Wait {
  return { code: WaitCode.ORGANIZATION_LIMIT, reason: `organization limit ${limit} reached` };
}

export function full(image: ImageDef, flavour: FlavourDef, nodes: readonly NodeState[]): Wait {
  const [only] = nodes;
  return {
    code: WaitCode.NODES_FULL,
    reason:
      nodes.length === 1 && only
        ? `node ${quote(only.name)} is full (${needs(flavour)})`
        : `all ${nodes.length} nodes with image ${quote(image.name)} are full (${needs(flavour)})`,
  };
}

/** Some node has room, but each such node is held for an earlier, larger job (FIFO fairness). */
export function held(holders: ReadonlyMap<string, number>): Wait {
  const entries = [...holders];
  const [first] = entries;
  if (entries.length === 1 && first) {
    return {
      code: WaitCode.NODES_HELD,
      reason: `node ${quote(first[0])} is held for earlier job ${first[1]}`,
    };
  }
  const jobs = [...new Set(entries.map(([, job]) => job))].sort((a, b) => a - b);
  return {
    code: WaitCode.NODES_HELD,
    reason: `all ${entries.length} nodes with room are held for earlier ${plural(jobs.length, "job", "jobs")} ${jobs.join(", ")}`,
  };
}

/** No node with the image carries every label the job asks for. */
export function missingLabels(jobLabels: readonly string[], perNode: readonly string[][]): Wait {
  const code = WaitCode.NO_NODE_WITH_LABELS;
  const asks = `(job asks for [${jobLabels.join(", ")}])`;
  const everywhere = (perNode[0] ?? []).filter((l) => perNode.every((m) => m.includes(l)));
  if (everywhere.length > 0) {
    const what = `${plural(everywhere.length, "label", "labels")} ${quoteAll(everywhere)}`;
    return { code, reason: `no node has ${what} ${asks}` };
  }
  const some = [...new Set(perNode.flat())];
  return { code, reason: `no node has all of labels ${quoteAll(some)} ${asks}` };
}

export function noLowTrustPool(): Wait {
  return {
    code: WaitCode.NO_LOW_TRUST_POOL,
    reason: "no low-trust pool: untrusted runs wait (see docs/security.md)",
  };
}

/** A trusted job found only low-trust pools or tainted nodes. */
export function noHighTrustNode(image: ImageDef, tainted: readonly NodeState[]): Wait {
  const code = WaitCode.NO_HIGH_TRUST_NODE;
  const [only] = tainted;
  if (tainted.length === 0)
    return {
      code,
      reason: `only low-trust pools have nodes with image ${quote(image.name)}: trusted runs never use them (see docs/security.md)`,
    };
  if (tainted.length === 1 && only)
    return {
      code,
      reason: `node ${quote(only.name)} ran low-trust work: re-register it to run trusted jobs`,
    };
  return {
    code,
    reason: `all ${tainted.length} high-trust nodes with image ${quote(image.name)} ran low-trust work: re-register them to run trusted jobs`,
  };
}

export function awaitingAuthorization(pools: readonly string[]): Wait {
  const [first, ...rest] = pools;
  const or = rest.length > 0 ? ` (or ${rest.join(", ")})` : "";
  return {
    code: WaitCode.AWAITING_AUTHORIZATION,
    reason: `awaiting authorization for pool ${first ?? "?"}${or}`,
    pools: [...pools],
  };
}

/** Who holds a concurrency group: a whole run (workflow level) or one job of a run. */
export interface GroupHolder {
  runId: number;
  /** The job's name, for a job-level holder. */
  job?: string;
}

/** The job or run waits until the group's running member ends (GitHub: one running, one pending). */
export function concurrencyGroup(group: string, holder: GroupHolder | undefined): Wait {
  const who =
    holder === undefined
      ? ""
      : holder.job === undefined
        ? ` (run ${holder.runId} is running)`
        : ` (job ${quote(holder.job)} of run ${holder.runId} is running)`;
  return { code: WaitCode.CONCURRENCY_GROUP, reason: `waiting for concurrency group '${group}'${who}` };
}

/** A replica found no eligible node: all of them belong to operators that built the job already. */
/** How NO_REPLICA_NODE reasons begin (a finished run's cancel finds such rebuilds by them). */
export const NO_REPLICA_PREFIXES = ["an independent rebuild ", "a rebuild on a trusted worker "] as const;

export function noReplicaNode(trustedWorker: boolean, excluded: readonly string[]): Wait {
  const who = excluded.map((o) => (o === "" ? "this installation" : o));
  const built = who.length === 0 ? "" : ` (built by ${quoteAll(who)} already)`;
  return {
    code: WaitCode.NO_REPLICA_NODE,
    reason: trustedWorker
      ? `a rebuild on a trusted worker waits for an eligible trusted node of another operator${built}`
      : `an independent rebuild waits for an eligible node of another operator${built}`,
  };
}

/** A deployment waits until its run's rebuilds have a verdict on the artifacts it may consume. */
export function rebuildsPending(): Wait {
  return {
    code: WaitCode.REBUILDS_PENDING,
    reason:
      "a deployment waits until the independent rebuilds of its run's artifacts are judged (the repository's corroboration policy)",
  };
}

/** Only deploy pools' nodes could take the job, and its run's rebuilds are not judged yet. */
/** A rebuild that only deploy pools' nodes could take: it never goes there. */
export function rebuildOffDeployPools(pools: readonly string[]): Wait {
  return {
    code: WaitCode.NO_REPLICA_NODE,
    reason: `an independent rebuild is never placed in ${pools.length > 1 ? "deploy pools" : "deploy pool"} ${pools.join(", ")}: it waits for an eligible node outside them`,
  };
}

export function rebuildsPendingDeployPools(pools: readonly string[]): Wait {
  const [first, ...rest] = pools;
  const which =
    rest.length > 0 ? `deploy pools ${[first, ...rest].join(", ")}` : `deploy pool ${first ?? "?"}`;
  return {
    code: WaitCode.REBUILDS_PENDING,
    reason: `the job waits until the independent rebuilds of its run's artifacts are judged before it may run in ${which}`,
  };
}
