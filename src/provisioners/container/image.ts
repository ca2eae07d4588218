// The images machines start from. A job image (src/images: an unpacked rootfs folder named by its
// digest, …/rootfs/<sha256 hex>/) is imported once per digest into podman's storage as
// localhost/airlock/image:<hex>; concurrent creates in this process share one import, and two
// processes importing at once only tag the same content twice. A job container's image
// (`container:`) is looked up in podman's local storage and pulled only when the operator gave the
// provisioner a registry.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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

/** A job container's image: from local storage, or pulled when a registry is configured. */
export async function ensureLocalImage(
  podman: Podman,
  image: string,
  registry: string | undefined,
  credentials?: { username: string; password: string },
): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(image) || image.length > 512) {
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `container image "${image.slice(0, 100)}" is not a valid image reference`,
    );
  }
  if ((await podman.run(["image", "exists", image])).code === 0) return image;
  if (registry === undefined) {
    throw new AirlockError(
      ErrorCode.MACHINE_FAILED,
      `container image ${image} is not in this node's local podman storage (and the node pulls from no registry)`,
    );
  }
  // Only ever from the operator's registry: a name that names another host is refused, not pulled.
  const base = registry.replace(/\/+$/, "");
  const first = image.split("/")[0] ?? "";
  const namesHost =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (namesHost && first !== base.split("/")[0]) {
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `container image ${image} names a registry other than this node's (${base})`,
    );
  }
  const ref = namesHost ? image : `${base}/${image}`;
  const authArgs: string[] = [];
  let authDir: string | undefined;
  if (credentials) {
    // --creds would put the password in podman's argv: a private auth file instead (its path only
    // in argv; podman's environment stays fixed).
    authDir = await mkdtemp(path.join(podman.privateDir, "auth-"));
    const host = ref.split("/")[0] ?? ref;
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
    const file = path.join(authDir, "auth.json");
    await writeFile(file, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
    authArgs.push(`--authfile=${file}`);
  }
  try {
    const r = await podman.run(["pull", "--quiet", ...authArgs, "--", ref]);
    if (r.code !== 0)
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `cannot pull ${ref}: ${firstError(r.stderr)}`);
  } finally {
    if (authDir) await rm(authDir, { recursive: true, force: true });
  }
  return ref;
}
