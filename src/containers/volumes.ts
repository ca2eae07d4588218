// `volumes:` of a job or service container. GitHub's form is `source:target[:mode]` or `target`.
// The source, as ContainerSpec carries it to the provisioner:
//   "./rel/path" or "." — a folder inside the job's workspace (relative, normalised, never `..`);
//   "name"              — a named volume of this job ([A-Za-z0-9][A-Za-z0-9_.-]*), created for the
//                         job and removed with it (the provisioner scopes the name to the job);
//   ""                  — an anonymous volume (GitHub's `- /target` form);
//   "/abs/path"         — a host path: refused unless the pool allows "--volume".
// The target must be an absolute path without `..`; the mode is `ro` or `rw`.
import { mkdir, realpath } from "node:fs/promises";
import { basename as hostBasename, dirname as hostDirname, join as hostPathJoin } from "node:path";
import path from "node:path/posix";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Machine } from "../provisioners/types.js";

export interface ContainerVolume {
  source: string;
  target: string;
  readOnly: boolean;
}

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function refuse(what: string, message: string): never {
  throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `${what}: ${message}`);
}

function hasDotDot(p: string): boolean {
  return p.split("/").includes("..");
}

/** Parses one `volumes:` entry (syntax only; where the source may point is checkVolume's). */
export function parseVolume(text: string, what = "container"): ContainerVolume {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  // eslint-disable-next-line no-control-regex
  if (text.length > 4096 || /[\u0000-\u001f\u007f,]/.test(text)) refuse(what, `volume ${shown} is not valid`);
  const parts = text.split(":");
  if (parts.length > 3) refuse(what, `volume ${shown} is not valid: expected source:target[:ro|rw]`);
  const [first, second, mode] = parts.length === 1 ? ["", parts[0], undefined] : parts;
  let source = first ?? "";
  const target = second ?? "";
  if (mode !== undefined && mode !== "ro" && mode !== "rw")
    refuse(what, `volume ${shown}: mode ${JSON.stringify(mode)} is not allowed (ro or rw)`);
  if (!target.startsWith("/") || hasDotDot(target) || path.normalize(target) === "/")
    refuse(what, `volume ${shown}: the target must be an absolute path inside the container, without '..'`);
  if (source !== "" && !source.startsWith("/") && !VOLUME_NAME.test(source)) {
    if (hasDotDot(source))
      refuse(what, `volume ${shown}: the source must stay inside the workspace (no '..')`);
    const rel = path.normalize(source);
    source = rel === "." ? "." : `./${rel.replace(/^\.\//, "").replace(/\/$/, "")}`;
  }
  return { source, target: path.normalize(target), readOnly: mode === "ro" };
}

/** Refuses host paths unless the pool allows "--volume"; returns the volume unchanged. */
export function checkVolume(
  v: ContainerVolume,
  allowed: ReadonlySet<string>,
  what = "container",
): ContainerVolume {
  if (v.source.startsWith("/") && !allowed.has("--volume"))
    refuse(
      what,
      `volume ${JSON.stringify(`${v.source}:${v.target}`)} is refused: host paths are not allowed (a workspace path such as ./data, or a named volume; a pool may allow --volume)`,
    );
  if (v.source.startsWith(".") && (hasDotDot(v.source) || v.source.startsWith("..")))
    refuse(what, `volume source ${JSON.stringify(v.source)} leaves the workspace`);
  return v;
}

/**
 * The host folder to bind for a workspace volume ("./path"), for the provisioner: resolved with
 * every symlink followed and refused (MACHINE_PATH_ESCAPE) unless it stays inside the machine's
 * workspace — a repository may hold `data -> /etc`. Missing folders are created, as Docker does.
 * Call it only while no job process runs (before the first step), so nothing can swap a path
 * between this check and the mount.
 */
export async function workspaceVolumeHostPath(
  machine: Pick<Machine, "paths" | "hostPath">,
  source: string,
): Promise<string> {
  if (source !== "." && !source.startsWith("./"))
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `volume source ${JSON.stringify(source)} is not a workspace path`,
    );
  const ws = machine.hostPath?.(machine.paths.workspace);
  const target = machine.hostPath?.(path.join(machine.paths.workspace, source));
  if (ws === undefined || target === undefined)
    throw new AirlockError(ErrorCode.MACHINE_UNSUPPORTED, "this machine's workspace is not on the host");
  const root = await realpath(ws);
  const inside = (p: string): boolean => p === root || p.startsWith(`${root}/`);
  // The deepest part that exists decides where the path really goes; the rest is created below it.
  let existing = target;
  const missing: string[] = [];
  for (;;) {
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) {
      if (!inside(real))
        throw new AirlockError(
          ErrorCode.MACHINE_PATH_ESCAPE,
          `volume source ${JSON.stringify(source)} leads out of the workspace`,
        );
      const full = hostPathJoin(real, ...missing.reverse());
      await mkdir(full, { recursive: true });
      const final = await realpath(full);
      if (!inside(final))
        throw new AirlockError(
          ErrorCode.MACHINE_PATH_ESCAPE,
          `volume source ${JSON.stringify(source)} leads out of the workspace`,
        );
      return final;
    }
    missing.push(hostBasename(existing));
    const parent = hostDirname(existing);
    if (parent === existing) throw new AirlockError(ErrorCode.MACHINE_PATH_ESCAPE, "no workspace");
    existing = parent;
  }
}
