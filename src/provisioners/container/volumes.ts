// `volumes:` of a job container or service: a source inside the machine's workspace (a host
// folder of the machine, created when missing, refused when any part of it is a symlink or leaves
// the machine; any source with a slash) or a named volume of this job (created as airlock-<machine>-<name>, labelled, removed
// with the machine). Targets are absolute paths inside the container; nothing else is mounted.
import { lstatSync, mkdirSync, chownSync } from "node:fs";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { ContainerSpec } from "../types.js";
import { LABEL_MACHINE, LABEL_OWNER } from "./args.js";
import type { Podman } from "./podman.js";

export interface VolumeContext {
  podman: Podman;
  id: string;
  owningLabel: string;
  /** Inner path of the workspace and its host folder. */
  workspace: { inner: string; host: string };
  owner: { uid: number; gid: number };
}

const refuse = (why: string): AirlockError => new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, why);
const NAMED = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** `--volume` arguments for `volumes`, creating what they need. */
export async function volumeArgs(c: VolumeContext, volumes: ContainerSpec["volumes"]): Promise<string[]> {
  const args: string[] = [];
  for (const v of volumes) {
    const target = path.posix.normalize(v.target);
    if (!path.posix.isAbsolute(target) || target.includes(":") || target.includes(",")) {
      throw refuse(`volume target ${v.target.slice(0, 100)} must be an absolute path`);
    }
    const mode = v.readOnly ? "ro" : "rw";
    if (!v.source.includes("/")) {
      if (!NAMED.test(v.source)) throw refuse(`volume name ${v.source.slice(0, 100)} is not valid`);
      const name = `airlock-${c.id}-${v.source}`;
      const exists = await c.podman.run(["volume", "exists", name]);
      if (exists.code !== 0) {
        await c.podman.ok(
          [
            "volume",
            "create",
            "--label",
            `${LABEL_MACHINE}=${c.id}`,
            "--label",
            `${LABEL_OWNER}=${c.owningLabel}`,
            name,
          ],
          `volume ${v.source}`,
        );
      }
      args.push("--volume", `${name}:${target}:${mode}`);
      continue;
    }
    const inner = path.posix.resolve(c.workspace.inner, v.source);
    const rel = path.posix.relative(c.workspace.inner, inner);
    if (rel.startsWith("..") || path.posix.isAbsolute(rel) || inner.includes(":") || inner.includes(",")) {
      throw refuse(`volume source ${v.source.slice(0, 100)} is outside the workspace`);
    }
    let host = c.workspace.host;
    for (const part of rel === "" ? [] : rel.split("/")) {
      host = path.join(host, part);
      const st = lstatSync(host, { throwIfNoEntry: false });
      if (st === undefined) {
        mkdirSync(host, { mode: 0o755 });
        chownSync(host, c.owner.uid, c.owner.gid);
      } else if (st.isSymbolicLink() || !st.isDirectory()) {
        throw refuse(`volume source ${v.source.slice(0, 100)} is not a folder of the workspace`);
      }
    }
    args.push("--volume", `${host}:${target}:${mode}`);
  }
  return args;
}
