// `volumes:` of a job or service container. GitHub's form is `source:target[:mode]` or `target`.
// The source, as ContainerSpec carries it to the provisioner:
//   "./rel/path" or "." — a folder inside the job's workspace (relative, normalised, never `..`);
//   "name"              — a named volume of this job ([A-Za-z0-9][A-Za-z0-9_.-]*), created for the
//                         job and removed with it (the provisioner scopes the name to the job);
//   ""                  — an anonymous volume (GitHub's `- /target` form);
//   "/abs/path"         — a host path: refused unless the pool allows "--volume".
// The target must be an absolute path without `..`; the mode is `ro` or `rw`.
import path from "node:path/posix";
import { AirlockError, ErrorCode } from "../errors/index.js";

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
