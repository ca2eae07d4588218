// The options allow-list of `container:` / `services:` (`options:`, already split into words by
// words.ts). Deny by default: only options that act inside the container are allowed; anything
// that would weaken the wall around it (privileges, capabilities, host namespaces, devices, host
// mounts, the network, kernel settings, the runtime) or that Airlock itself decides (name, network
// aliases, published ports, limits, labels it finds a job's containers by) is refused with
// CONTAINER_OPTION_REFUSED and one line — unless the pool explicitly allows that option
// (`ContainerPolicy.allowOptions`, the agent's --container-allow-option). Unknown options are
// refused too. The result is normalised to `--long-name=value` words (or `--flag`), so that a value
// starting with "-" can never be read as an option by the container engine.
import { AirlockError, ErrorCode } from "../errors/index.js";

/** What the node allows beyond the default list (options by their long name, e.g. "--cap-add"). */
export interface ContainerPolicy {
  allowOptions?: readonly string[];
}

interface OptionDef {
  /** Takes a value (`--x v`, `--x=v`, `-xv`). */
  value: boolean;
  /** Allowed without the pool's say-so. */
  safe: boolean;
  /** Extra check of the value of a safe option; returns why it is refused. */
  check?: (v: string) => string | undefined;
  /** Why it is refused (shown in the error). */
  why?: string;
}

const ENV_VALUE = (v: string): string | undefined =>
  /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)
    ? undefined
    : "needs NAME=value (a bare NAME would copy the host's variable into the container)";

const safe = (value: boolean, check?: OptionDef["check"]): OptionDef => ({
  value,
  safe: true,
  ...(check ? { check } : {}),
});
const refused = (value: boolean, why: string): OptionDef => ({ value, safe: false, why });

const ISOLATION = "it weakens the container's isolation";
const HOST_MOUNT = "host mounts are not allowed (use `volumes:` with a workspace path or a named volume)";
const OURS = "Airlock decides this itself";
const LIMITS = "resource limits are the pool's, not the job's";

const OPTIONS: Record<string, OptionDef> = {
  "--health-cmd": safe(true),
  "--health-interval": safe(true),
  "--health-timeout": safe(true),
  "--health-retries": safe(true),
  "--health-start-period": safe(true),
  "--health-start-interval": safe(true),
  "--no-healthcheck": safe(false),
  "--env": safe(true, ENV_VALUE),
  "--workdir": safe(true),
  "--user": safe(true),
  "--hostname": safe(true),
  "--entrypoint": safe(true),
  "--tmpfs": safe(true, (v) =>
    v.startsWith("/") ? undefined : "needs an absolute path inside the container",
  ),
  "--init": safe(false),
  "--read-only": safe(false),
  "--cap-drop": safe(true),
  "--stop-signal": safe(true),
  "--stop-timeout": safe(true),
  "--tty": safe(false),
  "--privileged": refused(false, ISOLATION),
  "--cap-add": refused(true, ISOLATION),
  "--security-opt": refused(true, ISOLATION),
  "--network": refused(true, "the network is the pool's, not the job's"),
  "--net": refused(true, "the network is the pool's, not the job's"),
  "--pid": refused(true, ISOLATION),
  "--ipc": refused(true, ISOLATION),
  "--uts": refused(true, ISOLATION),
  "--userns": refused(true, ISOLATION),
  "--cgroupns": refused(true, ISOLATION),
  "--cgroup-parent": refused(true, ISOLATION),
  "--cgroup-conf": refused(true, ISOLATION),
  "--device": refused(true, ISOLATION),
  "--device-cgroup-rule": refused(true, ISOLATION),
  "--gpus": refused(true, ISOLATION),
  "--sysctl": refused(true, ISOLATION),
  "--runtime": refused(true, ISOLATION),
  "--group-add": refused(true, ISOLATION),
  "--oom-kill-disable": refused(false, ISOLATION),
  "--oom-score-adj": refused(true, ISOLATION),
  "--volume": refused(true, HOST_MOUNT),
  "--mount": refused(true, HOST_MOUNT),
  "--volumes-from": refused(true, HOST_MOUNT),
  "--env-file": refused(true, "it reads a file of the host"),
  "--add-host": refused(true, OURS),
  "--dns": refused(true, OURS),
  "--name": refused(true, OURS),
  "--network-alias": refused(true, OURS),
  "--publish": refused(true, "ports come from `ports:`"),
  "--publish-all": refused(false, "ports come from `ports:`"),
  "--label": refused(true, OURS),
  "--rm": refused(false, OURS),
  "--detach": refused(false, OURS),
  "--pull": refused(true, OURS),
  "--memory": refused(true, LIMITS),
  "--memory-swap": refused(true, LIMITS),
  "--cpus": refused(true, LIMITS),
  "--cpu-shares": refused(true, LIMITS),
  "--pids-limit": refused(true, LIMITS),
  "--shm-size": refused(true, LIMITS),
  "--ulimit": refused(true, LIMITS),
};

const SHORT: Record<string, string> = {
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

function refuse(what: string, message: string): never {
  throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `${what}: ${message}`);
}

function show(word: string): string {
  return JSON.stringify(word.length > 60 ? `${word.slice(0, 60)}…` : word);
}

/**
 * Checks `words` (from splitWords) against the allow-list and the pool's policy; returns them
 * normalised. Throws CONTAINER_OPTION_REFUSED naming the first refused word; `what` names the
 * container ("container", "service 'db'").
 */
export function checkOptions(
  words: readonly string[],
  policy: ContainerPolicy = {},
  what = "container",
): string[] {
  const allowed = new Set(policy.allowOptions ?? []);
  const out: string[] = [];
  const accept = (
    name: string,
    def: OptionDef | undefined,
    value: string | undefined,
    word: string,
  ): void => {
    if (!def) return refuse(what, `option ${show(word)} is not allowed (unknown options are refused)`);
    if (!def.safe && !allowed.has(name))
      return refuse(what, `option ${name} is refused: ${def.why ?? ISOLATION} (a pool may allow it)`);
    if (def.value) {
      if (value === undefined) return refuse(what, `option ${name} needs a value`);
      const bad = def.safe && !allowed.has(name) ? def.check?.(value) : undefined;
      if (bad !== undefined) return refuse(what, `option ${name} ${show(value)}: ${bad}`);
      out.push(`${name}=${value}`);
    } else {
      if (value !== undefined) return refuse(what, `option ${name} takes no value`);
      out.push(name);
    }
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      const name = eq < 0 ? word : word.slice(0, eq);
      const def = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
      let value = eq < 0 ? undefined : word.slice(eq + 1);
      if (def?.value && value === undefined && i + 1 < words.length) value = words[++i];
      accept(name, def, value, word);
    } else if (word.startsWith("-") && word.length > 1 && word !== "--") {
      // Short options, possibly grouped (`-it`, `-eA=1`): each letter is checked.
      for (let j = 1; j < word.length; j++) {
        const letter = word[j]!;
        const name = Object.hasOwn(SHORT, letter) ? SHORT[letter]! : `-${letter}`;
        const def = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
        if (def?.value) {
          let value: string | undefined = word.slice(j + 1);
          if (value === "") value = i + 1 < words.length ? words[++i] : undefined;
          else if (value.startsWith("=")) value = value.slice(1);
          accept(name, def, value, word);
          break;
        }
        accept(name, def, undefined, `-${letter}`);
      }
    } else {
      refuse(what, `${show(word)} is not an option (options: holds options only, no image or command)`);
    }
  }
  return out;
}
