// The node's check of a planned ContainerSpec (`container:` or a service) before anything starts:
// options through the allow-list (normalised), volumes inside the workspace or named, unless the
// pool allows more. Runs where the job is run (runJobOnNewMachine), since the pool's policy is the
// node's, never the job's.
import type { ContainerSpec } from "../provisioners/types.js";
import type { ContainerTarget } from "./option-table.js";
import { checkOptions, type ContainerPolicy } from "./options.js";
import { checkVolume } from "./volumes.js";

/** The spec with its options normalised; throws CONTAINER_OPTION_REFUSED. */
export function checkContainer(
  spec: ContainerSpec,
  policy: ContainerPolicy = {},
  what = "container",
  target: ContainerTarget = what === "container" ? "job" : "service",
): ContainerSpec {
  const allowed = new Set(policy.allowOptions ?? []);
  const { allowOptions: _claimed, ...rest } = spec;
  const out: ContainerSpec = {
    ...rest,
    options: checkOptions(spec.options, policy, what, target),
    volumes: spec.volumes.map((v) => checkVolume(v, allowed, what)),
  };
  // What the pool allows travels with the spec: the provisioner re-reads the options with it.
  if (allowed.size > 0) out.allowOptions = [...allowed];
  return out;
}

/** Every container of a job checked: the job container and each service. */
export function checkJobContainers<
  J extends { container?: ContainerSpec; services?: Record<string, ContainerSpec> },
>(job: J, policy: ContainerPolicy = {}): J {
  const out = { ...job };
  if (job.container) out.container = checkContainer(job.container, policy, "container", "job");
  if (job.services)
    out.services = Object.fromEntries(
      Object.entries(job.services).map(([n, s]) => [
        n,
        checkContainer(s, policy, `service '${n}'`, "service"),
      ]),
    );
  return out;
}
