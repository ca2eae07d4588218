// Where a workflow image (`container:`, `services:`) comes from: the node's local podman storage,
// or the one registry the operator configured — never another host. With a registry, a name that
// resolves to it (a relative name, or one under the registry's address) is pulled at every use:
// `podman pull` fetches the manifest, so the registry checks the job's own credentials each time
// and an image an earlier job pulled with credentials is not lent to a job without them (layers
// already in storage are not downloaded again). `localhost/…` names (imported, built or loaded by
// the operator) stay local. Credentials are asked for only when a pull happens (`credentials()`:
// on a server run that releases the job's secrets), go to podman in a private auth file (never in
// an argv), and a pull without them is anonymous: the node's own registry logins are not used.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RegistryCredentials } from "../types.js";
import { firstError, type Podman } from "./podman.js";

/** The operator's registry (agent --container-registry, --container-registry-cert-dir). */
export interface ContainerRegistry {
  /** `host[:port]` with an optional namespace (`registry.example.com/ci`). */
  address: string;
  /** A folder with the registry's CA (`ca.crt`), as podman --cert-dir; default: the system's trust. */
  certDir?: string;
}

const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

/** The reference to use and whether it comes from the registry (pulled) or local storage. */
export function resolveImage(
  image: string,
  registry: ContainerRegistry | undefined,
): { ref: string; pull: boolean } {
  if (!REFERENCE.test(image) || image.length > 512 || image.includes("//")) {
    throw new AirlockError(
      ErrorCode.CONTAINER_OPTION_REFUSED,
      `container image "${image.slice(0, 100)}" is not a valid image reference`,
    );
  }
  const first = image.split("/")[0] ?? "";
  const namesHost =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (registry === undefined || first === "localhost") return { ref: image, pull: false };
  const base = registry.address.replace(/\/+$/, "");
  if (!namesHost) return { ref: `${base}/${image}`, pull: true };
  if (image.startsWith(`${base}/`)) return { ref: image, pull: true };
  throw new AirlockError(
    ErrorCode.CONTAINER_OPTION_REFUSED,
    `container image ${image} names a registry other than this node's (${base})`,
  );
}

/** A workflow image ready in local storage: its reference (pulled first when from the registry). */
export async function ensureWorkflowImage(
  podman: Podman,
  image: string,
  registry: ContainerRegistry | undefined,
  credentials?: () => Promise<RegistryCredentials | undefined>,
): Promise<string> {
  const { ref, pull } = resolveImage(image, registry);
  if (!pull) {
    if ((await podman.run(["image", "exists", "--", ref])).code === 0) return ref;
    throw new AirlockError(
      ErrorCode.MACHINE_FAILED,
      registry === undefined
        ? `container image ${ref} is not in this node's local podman storage (and the node pulls from no registry)`
        : `container image ${ref} is not in this node's local podman storage`,
    );
  }
  const creds = await credentials?.();
  const authDir = await mkdtemp(path.join(podman.privateDir, "auth-"));
  try {
    // --creds would put the password in podman's argv: a private auth file instead (an empty one
    // without credentials, so podman never falls back to root's own logins).
    const file = path.join(authDir, "auth.json");
    const host = ref.split("/")[0] ?? ref;
    const auths =
      creds && (creds.username !== "" || creds.password !== "")
        ? { [host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") } }
        : {};
    await writeFile(file, JSON.stringify({ auths }), { mode: 0o600 });
    const certs = registry?.certDir !== undefined ? ["--cert-dir", registry.certDir] : [];
    // Its path only in argv (podman's environment stays fixed: podman.ts).
    const r = await podman.run(["pull", "--quiet", `--authfile=${file}`, ...certs, "--", ref]);
    if (r.code !== 0) throw pullError(ref, r.stderr, Object.keys(auths).length > 0, creds);
  } finally {
    await rm(authDir, { recursive: true, force: true });
  }
  return ref;
}

/** One line, without the password (or its base64 form) even if podman were to echo it. */
function pullError(
  ref: string,
  stderr: string,
  withCredentials: boolean,
  creds: RegistryCredentials | undefined,
): AirlockError {
  let line = firstError(stderr);
  if (creds && creds.password !== "") {
    for (const s of [creds.password, Buffer.from(`${creds.username}:${creds.password}`).toString("base64")])
      line = line.split(s).join("***");
  }
  if (/unauthorized|authentication required|status code 401|invalid username\/password/i.test(line)) {
    return new AirlockError(
      ErrorCode.REGISTRY_UNAUTHORIZED,
      withCredentials
        ? `cannot pull ${ref}: the registry refused the credentials (check credentials: in the workflow)`
        : `cannot pull ${ref}: the registry requires credentials (credentials: in the workflow)`,
    );
  }
  return new AirlockError(ErrorCode.CONTAINER_PULL_FAILED, `cannot pull ${ref}: ${line}`);
}
