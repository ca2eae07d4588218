// Prometheus metrics. Gauges are refreshed from cheap queries on each scrape (no background loop
// to stop); the dispatch latency histogram is observed by the core and only exposed here.
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";
import { JobState } from "../orchestrator/states.js";
import { queueStats } from "../orchestrator/views/index.js";
import type { RouteContext } from "./deps.js";

export interface Metrics {
  /** Refreshes the gauges and renders the registry in the Prometheus text format. */
  render(): Promise<string>;
  contentType: string;
}

/** A gauge registered once per registry (buildServer may be called again with the same registry). */
function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  registry.removeSingleMetric(name);
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function createMetrics(ctx: RouteContext): Metrics {
  const { registry } = ctx.metrics;
  if (!registry.getSingleMetric("process_cpu_user_seconds_total"))
    collectDefaultMetrics({ register: registry });
  const queueDepth = gauge(registry, "airlock_queue_depth", "Jobs waiting to be placed on a node");
  const jobs = gauge(registry, "airlock_jobs", "Jobs by state", ["state"]);
  const machines = gauge(
    registry,
    "airlock_machines",
    "Machines (jobs assigned to or running on nodes) by state",
    ["state"],
  );
  const agents = gauge(registry, "airlock_connected_agents", "Node agents connected to this orchestrator");
  return {
    contentType: registry.contentType,
    async render() {
      const stats = await queueStats(ctx.pool);
      queueDepth.set(stats.queueDepth);
      for (const state of Object.values(JobState)) jobs.set({ state }, stats.jobsByState[state] ?? 0);
      for (const state of [JobState.assigned, JobState.running])
        machines.set({ state }, stats.jobsByState[state] ?? 0);
      agents.set(ctx.agents.connectedNodes());
      return registry.metrics();
    },
  };
}
