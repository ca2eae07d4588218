// The images machines start from. A job image (src/images: an unpacked rootfs folder named by its
// digest, …/rootfs/<sha256 hex>/) is imported once per digest into podman's storage as
// localhost/airlock/image:<hex>; concurrent creates in this process share one import, and two
// processes importing at once only tag the same content twice. Workflow images (`container:`,
// `services:`) come from local storage or the operator's registry: registry.ts.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { firstError, type Podman } from "./podman.js";

export const IMAGE_REPO = "localhost/airlock/image";

const imports = new Map<string, Promise<string>>();

/** The tag of a rootfs folder's image: its digest when the folder is named by one. */
export function rootfsTag(rootfs: string): string {
  const base = path.basename(path.resolve(rootfs));
  const hex = /^[0-9a-f]{64}$/.test(base)
    ? base
    : createHash("sha256").update(path.resolve(rootfs)).digest("hex");
  return `${IMAGE_REPO}:${hex}`;
}

/** Imports `rootfs` into podman's storage unless it is there; returns the image reference. */
export function ensureRootfsImage(
  podman: Podman,
  rootfs: string,
  onImport?: (ms: number) => void,
): Promise<string> {
  const tag = rootfsTag(rootfs);
  let p = imports.get(tag);
  if (!p) {
    p = (async () => {
      if ((await podman.run(["image", "exists", tag])).code === 0) return tag;
      const started = Date.now();
      // --numeric-owner: the image's own uids, never this host's names; one file system only.
      const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "--one-file-system", "-cf", "-", "."], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: "/usr/bin:/bin" },
      });
      let tarErr = "";
      tar.stderr.on("data", (b: Buffer) => {
        if (tarErr.length < 4096) tarErr += b.toString();
      });
      const tarDone = new Promise<number | null>((res) => {
        tar.once("error", () => res(127));
        tar.once("close", (c) => res(c));
      });
      const r = await podman.run(["import", "--quiet", "-", tag], { input: tar.stdout });
      const tarCode = await tarDone;
      if (tarCode !== 0 || r.code !== 0) {
        const why = tarCode !== 0 ? `tar: ${tarErr.trim().split("\n")[0] ?? "failed"}` : firstError(r.stderr);
        throw new AirlockError(ErrorCode.MACHINE_FAILED, `cannot import image ${rootfs} into podman: ${why}`);
      }
      onImport?.(Date.now() - started);
      return tag;
    })();
    imports.set(tag, p);
    p.catch(() => imports.delete(tag));
  }
  return p;
}
