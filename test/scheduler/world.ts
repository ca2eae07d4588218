// Test helpers: terse builders with defaults, and the invariants every placement batch must keep.
import assert from "node:assert/strict";
import type {
  FlavourDef,
  ImageDef,
  JobToPlace,
  Limits,
  NodeState,
  Placement,
} from "../../src/scheduler/index.js";
import { isPlaced } from "../../src/scheduler/index.js";

export function image(id: number, name: string, more: Partial<ImageDef> = {}): ImageDef {
  return { id, name, labels: [], requiredLabels: [], provisioner: "sandbox", ...more };
}

export function flavour(id: number, name: string, more: Partial<FlavourDef> = {}): FlavourDef {
  return { id, name, cpus: 1, memoryMb: 1024, diskMb: 0, labels: [], requiredLabels: [], ...more };
}

export function node(id: number, name: string, more: Partial<NodeState> = {}): NodeState {
  return {
    id,
    name,
    labels: [],
    requiredLabels: [],
    enabled: true,
    connected: true,
    cpus: 4,
    memoryMb: 8192,
    diskMb: 100_000,
    usedCpus: 0,
    usedMemoryMb: 0,
    usedDiskMb: 0,
    images: [],
    provisioners: ["sandbox"],
    ...more,
  };
}

export function noLimits(): Limits {
  return {
    projectRunning: new Map(),
    organizationRunning: new Map(),
    projectLimit: new Map(),
    organizationLimit: new Map(),
  };
}

export interface World {
  jobs: JobToPlace[];
  images: ImageDef[];
  flavours: FlavourDef[];
  nodes: NodeState[];
  limits: Limits;
}

/** What must hold for any batch, whatever the inputs: checked after every table and random batch. */
export function assertInvariants(w: World, placements: Placement[]): void {
  assert.deepEqual(
    placements.map((p) => p.jobId),
    w.jobs.map((j) => j.id),
    "one placement per job, in queue order",
  );
  const used = new Map(
    w.nodes.map((n) => [n, { cpus: n.usedCpus, mem: n.usedMemoryMb, disk: n.usedDiskMb }]),
  );
  const projects = new Map(w.limits.projectRunning);
  const orgs = new Map(w.limits.organizationRunning);
  placements.forEach((p, i) => {
    const job = w.jobs[i];
    assert.ok(job);
    if (!isPlaced(p)) {
      assert.ok(p.waitReason.length > 0, `job ${p.jobId} waits without a reason`);
      return;
    }
    const lower = new Set(job.labels.map((l) => l.toLowerCase()));
    const has = (req: string[]): boolean => req.every((l) => lower.has(l.toLowerCase()));
    assert.ok(w.nodes.includes(p.node) && w.images.includes(p.image) && w.flavours.includes(p.flavour));
    assert.ok(p.node.enabled && p.node.connected, `job ${p.jobId} on unavailable node ${p.node.name}`);
    assert.ok(p.node.images.includes(p.image.name) && p.node.provisioners.includes(p.image.provisioner));
    assert.ok(
      !job.containers || p.image.provisioner === "container",
      `job ${p.jobId} with containers on ${p.image.name}`,
    );
    assert.ok(has(p.node.requiredLabels) && has(p.image.requiredLabels) && has(p.flavour.requiredLabels));
    const u = used.get(p.node);
    assert.ok(u);
    u.cpus += p.flavour.cpus;
    u.mem += p.flavour.memoryMb;
    u.disk += p.flavour.diskMb;
    assert.ok(
      u.cpus <= p.node.cpus && u.mem <= p.node.memoryMb && u.disk <= p.node.diskMb,
      `node ${p.node.name} overcommitted by job ${p.jobId}`,
    );
    projects.set(job.projectId, (projects.get(job.projectId) ?? 0) + 1);
    orgs.set(job.organizationId, (orgs.get(job.organizationId) ?? 0) + 1);
    const pl = w.limits.projectLimit.get(job.projectId);
    const ol = w.limits.organizationLimit.get(job.organizationId);
    assert.ok(
      pl == null || (projects.get(job.projectId) ?? 0) <= pl,
      `project ${job.projectId} over its limit`,
    );
    assert.ok(
      ol == null || (orgs.get(job.organizationId) ?? 0) <= ol,
      `organization ${job.organizationId} over its limit`,
    );
  });
}
