// What the agent needs from the node's images: the names to report in `hello`, and a lease on an
// assigned image's rootfs for the lifetime of one machine. The node's ImageStore (src/images) is
// the real one; fixedImages() serves nodes whose provisioner ignores the root (the fake one).
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface NodeImages {
  /** Names of the images this node can run now. */
  names(): string[];
  /** The rootfs of an image, held until release(); throws IMAGE_NOT_FOUND when it is not here. */
  acquire(name: string): { rootfs: string; release(): void };
}

/**
 * Images for a node whose provisioner does not use a root filesystem (the fake provisioner runs
 * plain host processes): the names are reported, and the rootfs given to machines is a path that
 * does not exist, so a real provisioner handed it refuses to start instead of using the host.
 */
export function fixedImages(names: readonly string[]): NodeImages {
  return {
    names: () => [...names],
    acquire(name) {
      if (!names.includes(name)) {
        throw new AirlockError(ErrorCode.IMAGE_NOT_FOUND, `no image "${name}" on this node`);
      }
      return { rootfs: `/nonexistent/airlock-fixed-image/${name}`, release: () => undefined };
    },
  };
}
