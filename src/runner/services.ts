// "Initialize containers", as GitHub's job log has it: the job container's `env` evaluated (it
// reaches every step's process, with the `-e` of its options), then each service of `services:` started through
// Machine.containers and its health check waited for — "healthy" or no health check go on,
// "unhealthy" fails the job with the service's last log lines, and the wait is bounded. `env` and
// `credentials` are evaluated here, on the node, after the job's secrets were released, with the
// contexts GitHub gives them (github, needs, strategy, matrix, job, runner, env, vars, secrets,
// inputs). The options were checked against the pool's policy before the machine was created
// (runJobOnNewMachine).
import { setTimeout as delay } from "node:timers/promises";
import { podmanOptions } from "../containers/index.js";
import { evaluateStringMap, evaluateToString } from "../expressions/index.js";
import { portsContext } from "../containers/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { ContainerSpec, ServiceContainer } from "../provisioners/types.js";
import { evalHost, exprContexts } from "./contexts.js";
import type { JobRun, Scope } from "./state.js";

/** How long a service may take to become healthy. */
export const SERVICE_HEALTH_TIMEOUT_MS = 10 * 60_000;
/** Log lines of an unhealthy service shown in the job's log. */
const LOG_TAIL_LINES = 50;

const ENV_CONTEXTS = [
  "github",
  "needs",
  "strategy",
  "matrix",
  "job",
  "runner",
  "env",
  "vars",
  "secrets",
  "inputs",
] as const;

function evaluated(run: JobRun, scope: Scope, spec: ContainerSpec): ContainerSpec {
  const ctx = exprContexts(run, scope, { ...run.env });
  const host = { ...evalHost(run, scope), contexts: ENV_CONTEXTS };
  const out: ContainerSpec = { ...spec, env: evaluateStringMap(spec.env, ctx, host) };
  if (spec.credentials)
    out.credentials = {
      username: evaluateToString(spec.credentials.username, ctx, host),
      password: evaluateToString(spec.credentials.password, ctx, host),
    };
  return out;
}

/** Returns false (after saying why) when the job cannot start. */
export async function initializeContainers(run: JobRun, scope: Scope): Promise<boolean> {
  const { job } = run;
  const services = Object.entries(job.services ?? {});
  if (!job.container && services.length === 0) return true;
  run.log(undefined, "system", "group-start", "Initialize containers");
  try {
    // Every container of the job shares the machine's network namespace (docs/compatibility.md).
    const network = `airlock-${run.machine.id}`;
    if (job.container) {
      run.log(undefined, "system", "line", `Job container: ${job.container.image}`);
      // `-e NAME=value` of its options too, under `env:` (the machine's PID 1 gets both as well).
      run.containerEnv = {
        ...podmanOptions(job.container.options, "job", "container", job.container.allowOptions).env,
        ...evaluated(run, scope, job.container).env,
      };
      run.containersContext.container = { id: run.machine.id, network };
    }
    if (services.length > 0) {
      run.containersContext.services = Object.fromEntries(
        services.map(([name, spec]) => [
          name,
          {
            id: `${run.machine.id}-${name}`,
            network,
            ports: portsContext(spec.ports ?? [], `service '${name}'`),
          },
        ]),
      );
    }
    if (services.length === 0) return true;
    const containers = run.machine.containers;
    if (!containers)
      throw new AirlockError(
        ErrorCode.MACHINE_UNSUPPORTED,
        "service containers (`services:`) are not supported by this provisioner: they need the container provisioner",
      );
    const started: ServiceContainer[] = [];
    for (const [name, spec] of services) {
      run.log(undefined, "system", "line", `Starting service container '${name}' (${spec.image})`);
      started.push(await containers.startService(name, evaluated(run, scope, spec)));
    }
    for (const service of started) if (!(await waitHealthy(run, service))) return false;
    return true;
  } catch (err) {
    run.annotate(undefined, "error", `Initialize containers failed: ${(err as Error).message}`);
    return false;
  } finally {
    run.log(undefined, "system", "group-end", "");
  }
}

async function waitHealthy(run: JobRun, service: ServiceContainer): Promise<boolean> {
  const deadline = Date.now() + SERVICE_HEALTH_TIMEOUT_MS;
  let pause = 50;
  for (;;) {
    const health = await service.health();
    if (health === "healthy" || health === "none") {
      run.log(
        undefined,
        "system",
        "line",
        `Service '${service.name}' is ${health === "none" ? "started" : "healthy"}`,
      );
      return true;
    }
    if (run.cancelled) return false;
    const late = Date.now() > deadline;
    if (health === "unhealthy" || late) {
      const why = late
        ? `did not become healthy within ${SERVICE_HEALTH_TIMEOUT_MS / 60_000} minutes`
        : "is unhealthy: its health check failed";
      run.annotate(undefined, "error", `Service '${service.name}' ${why}`);
      const logs = await service.logs(64 * 1024).catch(() => "");
      const lines = logs.split("\n").filter((l) => l !== "");
      for (const line of lines.slice(-LOG_TAIL_LINES))
        run.log(undefined, "system", "line", `${service.name}: ${line}`);
      return false;
    }
    // Polling: the health of a container is a state to look at, not an event to wait for.
    await delay(pause, undefined, { signal: run.abort.signal }).catch(() => undefined);
    pause = Math.min(pause * 2, 1000);
  }
}
