// Loads placement tables (fixtures/*.yml): a world of images, flavours, nodes and limits, and a
// queue of jobs each with its expected placement or wait reason. The schema is strict so a
// misspelt key fails loudly instead of silently not being checked.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { WaitCode, type Limits } from "../../src/scheduler/index.js";
import { flavour, image, node, type World } from "./world.js";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

const labels = z.array(z.string()).optional();
const Image = z.strictObject({
  id: z.number().optional(),
  name: z.string(),
  labels,
  requiredLabels: labels,
  provisioner: z.string().optional(),
});
const Flavour = z.strictObject({
  id: z.number().optional(),
  name: z.string(),
  cpus: z.number().optional(),
  memoryMb: z.number().optional(),
  diskMb: z.number().optional(),
  labels,
  requiredLabels: labels,
});
const Node = z.strictObject({
  id: z.number().optional(),
  name: z.string(),
  labels,
  requiredLabels: labels,
  enabled: z.boolean().optional(),
  connected: z.boolean().optional(),
  cpus: z.number().optional(),
  memoryMb: z.number().optional(),
  diskMb: z.number().optional(),
  usedCpus: z.number().optional(),
  usedMemoryMb: z.number().optional(),
  usedDiskMb: z.number().optional(),
  /** Default: every image of the case. */
  images: z.array(z.string()).optional(),
  provisioners: z.array(z.string()).optional(),
  /** Default: the open, high-trust pool `default`. */
  pool: z
    .strictObject({
      name: z.string(),
      trust: z.enum(["low", "high"]),
      open: z.boolean().default(false),
      deploy: z.boolean().optional(),
    })
    .optional(),
  tainted: z.boolean().optional(),
  draining: z.boolean().optional(),
});
const Expect = z.union([
  z.strictObject({ node: z.string(), image: z.string().optional(), flavour: z.string().optional() }),
  z.strictObject({
    wait: z.enum(Object.values(WaitCode)),
    reason: z.string().optional(),
    /** AWAITING_AUTHORIZATION: the pools to request. */
    pools: z.array(z.string()).optional(),
  }),
]);
const Job = z.strictObject({
  id: z.number().optional(),
  labels,
  project: z.number().optional(),
  org: z.number().optional(),
  trust: z.enum(["trusted", "untrusted"]).optional(),
  /** Closed pools the repository is authorized to use. */
  pools: z.array(z.string()).optional(),
  /** It has `container:` or `services:`. */
  containers: z.boolean().optional(),
  /** Its run has independent rebuilds under way. */
  rebuildsPending: z.boolean().optional(),
  expect: Expect,
});
const Usage = z.record(
  z.string(),
  z.strictObject({ running: z.number().optional(), limit: z.number().nullable() }),
);
const LimitsSpec = z.strictObject({ projects: Usage.optional(), organizations: Usage.optional() });
const World_ = {
  images: z.array(Image).optional(),
  flavours: z.array(Flavour).optional(),
  nodes: z.array(Node).optional(),
  limits: LimitsSpec.optional(),
};
const Case = z.strictObject({ name: z.string(), ...World_, jobs: z.array(Job).min(1) });
const File = z.strictObject({ defaults: z.strictObject(World_).optional(), cases: z.array(Case).min(1) });

export type Expectation = z.infer<typeof Expect>;
export interface TableCase {
  name: string;
  world: World;
  expected: Expectation[];
}

function toLimits(spec: z.infer<typeof LimitsSpec> | undefined): Limits {
  const running = (u: z.infer<typeof Usage> | undefined): Map<number, number> =>
    new Map(Object.entries(u ?? {}).map(([k, v]) => [Number(k), v.running ?? 0]));
  const limit = (u: z.infer<typeof Usage> | undefined): Map<number, number | null> =>
    new Map(Object.entries(u ?? {}).map(([k, v]) => [Number(k), v.limit]));
  return {
    projectRunning: running(spec?.projects),
    organizationRunning: running(spec?.organizations),
    projectLimit: limit(spec?.projects),
    organizationLimit: limit(spec?.organizations),
  };
}

export function loadTable(file: string): TableCase[] {
  const data = File.parse(parse(readFileSync(path.join(FIXTURES, file), "utf8")));
  return data.cases.map((c) => {
    const d = data.defaults ?? {};
    const images = (c.images ?? d.images ?? []).map((i, n) => image(i.id ?? n + 1, i.name, strip(i)));
    const flavours = (c.flavours ?? d.flavours ?? []).map((f, n) => flavour(f.id ?? n + 1, f.name, strip(f)));
    const nodes = (c.nodes ?? d.nodes ?? []).map((x, n) =>
      node(x.id ?? n + 1, x.name, { images: images.map((i) => i.name), ...strip(x) }),
    );
    const jobs = c.jobs.map((j, n) => ({
      id: j.id ?? n + 1,
      labels: j.labels ?? [],
      projectId: j.project ?? 1,
      organizationId: j.org ?? 1,
      ...(j.trust ? { trust: j.trust } : {}),
      ...(j.pools ? { pools: j.pools } : {}),
      ...(j.containers ? { containers: true } : {}),
      ...(j.rebuildsPending ? { runRebuildsPending: true } : {}),
    }));
    return {
      name: c.name,
      world: { jobs, images, flavours, nodes, limits: toLimits(c.limits ?? d.limits) },
      expected: c.jobs.map((j) => j.expect),
    };
  });
}

/** Drops keys whose value is undefined, so builders' defaults stay in place. */
function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function tableFiles(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".yml"))
    .sort();
}
