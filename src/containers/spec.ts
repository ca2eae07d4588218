// `container:` and `services:` of a job, as the planner turns them into ContainerSpec values for
// the JobDescription. GitHub's context availability: image, options, volumes and ports see github,
// needs, strategy, matrix, vars and inputs (no secrets); `env` and `credentials` may also read
// secrets, env, job and runner, so they travel AS WRITTEN (non-string scalars as text) and are
// evaluated on the node once the job's secrets are released (a secret never sits in clear in the
// job's description). An image that comes out empty means "no container", as on GitHub.
import { evaluateTemplate, toExpressionString, type Contexts } from "../expressions/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { ContainerSpec } from "../provisioners/types.js";
import { parsePort } from "./ports.js";
import { parseVolume } from "./volumes.js";
import { splitWords } from "./words.js";

/** Contexts GitHub gives `jobs.<id>.container` and `jobs.<id>.services` (docs: context availability). */
export const CONTAINER_CONTEXTS = ["github", "needs", "strategy", "matrix", "vars", "inputs"] as const;

/** A service's name is its host name for the job: one DNS label. */
const SERVICE_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export const SERVICE_NAME_RULE =
  "a service name must be a DNS label (letters, digits and '-', not at either end, up to 63 characters): the job reaches the service by it";

export function isServiceName(name: string): boolean {
  return SERVICE_NAME.test(name);
}
function refuse(what: string, message: string): never {
  throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `${what}: ${message}`);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** GitHub drops a `docker://` prefix (actions/runner PipelineTemplateConverter.ConvertToJobContainer). */
function imageName(v: unknown): string {
  const image = asWritten(v).trim();
  return image.startsWith("docker://") ? image.slice("docker://".length) : image;
}

/** A value kept as written for the node to evaluate: strings as they are, other scalars as text. */
function asWritten(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : toExpressionString(v);
}

/**
 * The ContainerSpec of a `container:` value or one `services:` entry, or undefined when its image
 * is empty. `ctx` holds CONTAINER_CONTEXTS. Throws CONTAINER_OPTION_REFUSED / EXPRESSION_FAILED.
 */
export function planContainer(raw: unknown, ctx: Contexts, what: string): ContainerSpec | undefined {
  const host = { contexts: CONTAINER_CONTEXTS };
  const ev = (v: unknown): unknown => evaluateTemplate(v, ctx, host);
  // The whole value may be one expression (`container: ${{ matrix.container }}`).
  const top = isMapping(raw) ? raw : ev(raw);
  if (!isMapping(top)) {
    const image = imageName(top);
    return image === "" ? undefined : { image, env: {}, options: [], volumes: [] };
  }
  const image = imageName(ev(top.image));
  if (image === "") return undefined;
  const options = top.options === undefined || top.options === null ? "" : asWritten(ev(top.options));
  const volumes = ev(top.volumes ?? []);
  const ports = ev(top.ports ?? []);
  if (!Array.isArray(volumes)) refuse(what, "volumes must be a list");
  if (!Array.isArray(ports)) refuse(what, "ports must be a list");
  const env: Record<string, string> = {};
  if (top.env !== undefined && top.env !== null) {
    if (!isMapping(top.env)) refuse(what, "env must be a mapping");
    for (const [k, v] of Object.entries(top.env)) env[k] = asWritten(v);
  }
  const spec: ContainerSpec = {
    image,
    env,
    options: splitWords(options, `${what} options`),
    volumes: volumes.map((v) => parseVolume(asWritten(v), what)),
  };
  if (ports.length > 0)
    spec.ports = ports.map((p) => {
      const text = asWritten(p).trim();
      parsePort(text, what);
      return text;
    });
  // Services only (the schema has them for `services:` entries): as actions/runner, the entrypoint
  // replaces the image's ENTRYPOINT and `command` its CMD, split into words without a shell.
  if (typeof top.entrypoint === "string" || typeof top.entrypoint === "number") {
    const entrypoint = asWritten(ev(top.entrypoint)).trim();
    if (entrypoint !== "") spec.entrypoint = entrypoint;
  }
  if (top.command !== undefined && top.command !== null) {
    const command = asWritten(ev(top.command));
    if (command.trim() !== "") spec.command = splitWords(command, `${what} command`);
  }
  if (top.credentials !== undefined && top.credentials !== null) {
    if (!isMapping(top.credentials)) refuse(what, "credentials must be a mapping of username and password");
    spec.credentials = {
      username: asWritten(top.credentials.username),
      password: asWritten(top.credentials.password),
    };
  }
  return spec;
}

/** `services:`: name → spec (entries whose image is empty are left out, as on GitHub). */
export function planServices(raw: unknown, ctx: Contexts): Record<string, ContainerSpec> | undefined {
  if (raw === undefined || raw === null) return undefined;
  const map = isMapping(raw) ? raw : evaluateTemplate(raw, ctx, { contexts: CONTAINER_CONTEXTS });
  if (!isMapping(map)) refuse("services", "must be a mapping of service names");
  const out: Record<string, ContainerSpec> = {};
  for (const [name, value] of Object.entries(map)) {
    if (!isServiceName(name)) refuse(`service ${JSON.stringify(name.slice(0, 70))}`, SERVICE_NAME_RULE);
    const spec = planContainer(value, ctx, `service '${name}'`);
    if (spec) out[name] = spec;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
