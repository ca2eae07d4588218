// Public face of the provisioners: the interface and its backends.
export type * from "./types.js";
export { createFakeProvisioner, type FakeProvisionerOptions } from "./fake/index.js";
export { createSandboxProvisioner, describeLimits, type SandboxProvisionerOptions } from "./sandbox/index.js";
export { HOST_ROOT } from "./types.js";
export { EGRESS_PROXY_PORT, egressProxyEnv } from "./common/egress-relay.js";
export { createSshProvisioner, sshHostHealth, type SshProvisionerOptions } from "./ssh/index.js";
export {
  createContainerProvisioner,
  type ContainerProvisionerOptions,
  type ContainerRegistry,
} from "./container/index.js";
export { createVmProvisioner, describeVm, type VmProvisionerOptions } from "./vm/index.js";
