// Public face of job images: the node's content-addressed store of read-only root filesystems
// (store.ts), building them from Debian packages with mmdebstrap (build.ts), and the validation of
// every name a user gives (names.ts). Used by the CLI (`airlock image`, `airlock run`) and the agent.
export { ImageStore, sha256File, type ImageLease, type ImageRecord, type ResolvedImage } from "./store.js";
export {
  buildImage,
  findMmdebstrap,
  mmdebstrapArgs,
  SOURCE_DATE_EPOCH,
  type BuildRequest,
  type BuildResult,
} from "./build.js";
export {
  checkBuildInputs,
  checkImageName,
  DEFAULT_IMAGE,
  DEFAULT_PACKAGES,
  DEFAULT_SUITE,
  DEFAULT_VARIANT,
  isImageName,
  splitPackages,
  VARIANTS,
  type Variant,
} from "./names.js";
export { addMountPoints, hasMountPoints, MOUNT_DIRS, MOUNT_FILES } from "./mount-points.js";
export { pidAlive } from "./lock.js";
