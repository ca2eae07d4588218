// The ONE table of container `options:` (docker/podman run flags). The planner and the node check
// `options:` against it (options.ts: allowed by default, refused unless the pool allows it, or never)
// and the container provisioner renders the same entries into podman's argv (podman-options.ts), so
// an option accepted here is honoured there, or refused here — never accepted and then dropped.
// Per entry, what a job container (the machine itself: PID 1 is Airlock's init, steps enter it as
// uid 1001) and a service / Docker-action container make of it.

/** Which container an option is for: the job's own (`container:`) or a sibling (`services:`). */
export type ContainerTarget = "job" | "service";

/**
 * How a container takes an allowed option: "flag" = the same podman flag; "env" = a variable (in
 * the private env-file, never in argv); "inherent" = Airlock's container is so already (the job
 * container's PID 1 is an init and its root file system is read-only), no flag needed; a string =
 * refused for that container, saying why.
 */
export type OptionUse = "flag" | "env" | "inherent" | { refused: string };

export interface OptionDef {
  /** Takes a value (`--x v`, `--x=v`, `-xv`). */
  value: boolean;
  /** Allowed without the pool's say-so. */
  safe: boolean;
  /** Refused even when a pool allows it: Airlock itself decides this. */
  never?: boolean;
  /** Extra check of the value (a safe option's, unless the pool allows the option). */
  check?: (v: string) => string | undefined;
  /** Check of the value that holds whatever the pool allows. */
  always?: (v: string) => string | undefined;
  /** Why it is refused by default (shown in the error). */
  why?: string;
  job: OptionUse;
  service: OptionUse;
}

const ENV_VALUE = (v: string): string | undefined =>
  /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)
    ? undefined
    : "needs NAME=value (a bare NAME would copy the host's variable into the container)";
const ABSOLUTE = (v: string): string | undefined =>
  v.startsWith("/") ? undefined : "needs an absolute path inside the container";
const NOT_OURS = (v: string): string | undefined =>
  v.toLowerCase().startsWith("airlock.") ? "labels airlock.* are Airlock's own" : undefined;

export const ISOLATION = "it weakens the container's isolation";
const HOST_MOUNT = "host mounts are not allowed (use `volumes:` with a workspace path or a named volume)";
const OURS = "Airlock decides this itself";
const LIMITS = "resource limits are the pool's, not the job's";
const NETWORK = "the network is the pool's, not the job's";
const PID1 = "the job container's PID 1 is Airlock's (steps enter it)";
const STEPS_USER = "steps of a job container run as uid 1001 (docs/isolation.md)";

const flag: Pick<OptionDef, "job" | "service"> = { job: "flag", service: "flag" };
const safe = (value: boolean, more: Partial<OptionDef> = {}): OptionDef => ({
  value,
  safe: true,
  ...flag,
  ...more,
});
const refused = (value: boolean, why: string, more: Partial<OptionDef> = {}): OptionDef => ({
  value,
  safe: false,
  why,
  ...flag,
  ...more,
});
const never = (value: boolean, why: string): OptionDef => refused(value, why, { never: true });

export const OPTIONS: Readonly<Record<string, OptionDef>> = {
  "--health-cmd": safe(true),
  "--health-interval": safe(true),
  "--health-timeout": safe(true),
  "--health-retries": safe(true),
  "--health-start-period": safe(true),
  "--health-start-interval": never(true, "podman has no start interval for health checks"),
  "--no-healthcheck": safe(false),
  "--env": safe(true, { check: ENV_VALUE, always: ENV_VALUE, job: "env", service: "env" }),
  "--workdir": safe(true, { job: { refused: PID1 } }),
  "--user": safe(true, { job: { refused: STEPS_USER } }),
  "--hostname": safe(true),
  "--entrypoint": safe(true, { job: { refused: PID1 } }),
  "--tmpfs": safe(true, { check: ABSOLUTE, always: ABSOLUTE }),
  "--init": safe(false, { job: "inherent" }),
  "--read-only": safe(false, { job: "inherent" }),
  "--cap-drop": safe(true),
  "--stop-signal": safe(true),
  "--stop-timeout": safe(true),
  "--tty": safe(false, { job: { refused: "steps of a job container have no terminal" } }),
  "--privileged": refused(false, ISOLATION),
  "--cap-add": refused(true, ISOLATION),
  "--security-opt": refused(true, ISOLATION),
  "--network": refused(true, NETWORK),
  "--pid": refused(true, ISOLATION),
  "--ipc": refused(true, ISOLATION),
  "--uts": refused(true, ISOLATION),
  "--userns": refused(true, ISOLATION),
  "--cgroupns": refused(true, ISOLATION),
  "--cgroup-parent": refused(true, ISOLATION),
  "--cgroup-conf": refused(true, ISOLATION),
  "--device": refused(true, ISOLATION),
  "--device-cgroup-rule": refused(true, ISOLATION),
  "--gpus": never(true, "podman has no --gpus (use --device with the pool's say-so)"),
  "--sysctl": refused(true, ISOLATION),
  "--runtime": never(true, "the container runtime is the node's (runc)"),
  "--group-add": refused(true, ISOLATION),
  "--oom-kill-disable": refused(false, ISOLATION),
  "--oom-score-adj": refused(true, ISOLATION),
  "--volume": refused(true, HOST_MOUNT),
  "--mount": refused(true, HOST_MOUNT),
  "--volumes-from": refused(true, HOST_MOUNT),
  "--env-file": refused(true, "it reads a file of the host"),
  "--add-host": never(true, `${OURS} (the job's /etc/hosts)`),
  "--dns": never(true, OURS),
  "--name": never(true, OURS),
  "--network-alias": never(true, OURS),
  "--publish": never(true, "ports come from `ports:`"),
  "--publish-all": never(false, "ports come from `ports:`"),
  "--label": refused(true, OURS, { always: NOT_OURS }),
  "--rm": never(false, OURS),
  "--detach": never(false, OURS),
  "--interactive": never(false, OURS),
  "--pull": never(true, OURS),
  "--memory": refused(true, LIMITS),
  "--memory-swap": refused(true, LIMITS),
  "--cpus": refused(true, LIMITS),
  "--cpu-shares": refused(true, LIMITS),
  "--pids-limit": refused(true, LIMITS),
  "--shm-size": refused(true, LIMITS),
  "--ulimit": refused(true, LIMITS),
};

/** Other spellings of a long option. */
export const ALIASES: Readonly<Record<string, string>> = { "--net": "--network" };

/** Short options Docker knows, by their long name. */
export const SHORT: Readonly<Record<string, string>> = {
  e: "--env",
  w: "--workdir",
  u: "--user",
  h: "--hostname",
  t: "--tty",
  v: "--volume",
  p: "--publish",
  P: "--publish-all",
  l: "--label",
  d: "--detach",
  m: "--memory",
  c: "--cpu-shares",
  i: "--interactive",
};
