// Public face of the provisioners: the interface and its backends.
export type * from "./types.js";
export { createFakeProvisioner, type FakeProvisionerOptions } from "./fake/index.js";
export { createSandboxProvisioner, describeLimits, type SandboxProvisionerOptions } from "./sandbox/index.js";
export { HOST_ROOT } from "./types.js";
export { EGRESS_PROXY_PORT, egressProxyEnv } from "./common/egress-relay.js";
export { createVmProvisioner, describeVm, type VmProvisionerOptions } from "./vm/index.js";
