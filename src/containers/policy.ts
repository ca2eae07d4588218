// The node's check of a planned ContainerSpec (`container:` or a service) before anything starts:
// options through the allow-list (normalised), volumes inside the workspace or named, unless the
// pool allows more. Runs where the job is run (runJobOnNewMachine), since the pool's policy is the
// node's, never the job's.
import type { ContainerSpec } from "../provisioners/types.js";
import { checkOptions, type ContainerPolicy } from "./options.js";
import { checkVolume } from "./volumes.js";

/** The spec with its options normalised; throws CONTAINER_OPTION_REFUSED. */
export function checkContainer(
  spec: ContainerSpec,
  policy: ContainerPolicy = {},
  what = "container",
): ContainerSpec {
  const allowed = new Set(policy.allowOptions ?? []);
  return {
    ...spec,
    options: checkOptions(spec.options, policy, what),
    volumes: spec.volumes.map((v) => checkVolume(v, allowed, what)),
  };
}

/** Every container of a job checked: the job container and each service. */
export function checkJobContainers<
  J extends { container?: ContainerSpec; services?: Record<string, ContainerSpec> },
>(job: J, policy: ContainerPolicy = {}): J {
  const out = { ...job };
  if (job.container) out.container = checkContainer(job.container, policy, "container");
  if (job.services)
    out.services = Object.fromEntries(
      Object.entries(job.services).map(([n, s]) => [n, checkContainer(s, policy, `service '${n}'`)]),
    );
  return out;
}
