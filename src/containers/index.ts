// Public face of the workflow side of containers: `container:` / `services:` planned into
// ContainerSpec values, word splitting without a shell, the options allow-list (one table, also
// rendered into podman arguments for the provisioner) and volume rules. The provisioner
// (src/provisioners/container) runs what comes out; it does not re-decide policy.
export { splitWords, MAX_WORDS, MAX_WORDS_TEXT } from "./words.js";
export { checkOptions, type ContainerPolicy } from "./options.js";
export { OPTIONS, type ContainerTarget, type OptionDef, type OptionUse } from "./option-table.js";
export { podmanOptions, type PodmanOptions } from "./podman-options.js";
export { parseVolume, checkVolume, workspaceVolumeHostPath, type ContainerVolume } from "./volumes.js";
export { planContainer, planServices, isServiceName, SERVICE_NAME_RULE, CONTAINER_CONTEXTS } from "./spec.js";
export { checkContainer, checkJobContainers } from "./policy.js";
export { dockerActionMounts, toContainerPath, type ContainerMount } from "./paths.js";
export { copyContext, CONTEXT_LIMITS, type CopyLimits } from "./context-copy.js";
export { parsePort, portsContext, RESERVED_PORTS, type PortMapping } from "./ports.js";
