// The `options:` of a workflow's container or service that reach `podman run`: an allow-list of
// flags that cannot weaken the machine (no privileges, capabilities, devices, host mounts,
// namespaces, limits or labels of ours). The node's allow-list decides first; this is the last
// line: anything else is refused with CONTAINER_OPTION_REFUSED, never passed on.
import { AirlockError, ErrorCode } from "../../errors/index.js";

/** Flags taking a value that are harmless inside the machine's own namespaces. */
const WITH_VALUE = new Map<string, string>([
  ["-e", "--env"],
  ["--env", "--env"],
  ["-w", "--workdir"],
  ["--workdir", "--workdir"],
  ["--entrypoint", "--entrypoint"],
  ["-u", "--user"],
  ["--user", "--user"],
  ["--health-cmd", "--health-cmd"],
  ["--health-interval", "--health-interval"],
  ["--health-retries", "--health-retries"],
  ["--health-timeout", "--health-timeout"],
  ["--health-start-period", "--health-start-period"],
  ["-l", "--label"],
  ["--label", "--label"],
  ["--tmpfs", "--tmpfs"],
  ["--stop-signal", "--stop-signal"],
]);

/**
 * `options:` tokens (`--flag value` or `--flag=value`) → podman arguments, or a refusal. `--env`
 * values go to `env` (podman's environment, named by `--env NAME`), never into an argv.
 */
export function containerOptions(options: readonly string[], env: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const tok = options[i] ?? "";
    const eq = tok.startsWith("--") ? tok.indexOf("=") : -1;
    const flag = eq > 0 ? tok.slice(0, eq) : tok;
    const canon = WITH_VALUE.get(flag);
    if (canon === undefined) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        `container option ${flag.slice(0, 60)} is not allowed`,
      );
    }
    const value = eq > 0 ? tok.slice(eq + 1) : options[++i];
    if (value === undefined) {
      throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `container option ${flag} needs a value`);
    }
    if (canon === "--label" && value.toLowerCase().startsWith("airlock.")) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        "container labels airlock.* are Airlock's own",
      );
    }
    if (canon === "--tmpfs" && !value.startsWith("/")) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        `container option --tmpfs needs an absolute path`,
      );
    }
    if (canon === "--env") {
      const [name = "", ...rest] = value.split("=");
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, "container option --env needs NAME=value");
      }
      env[name] = rest.join("=");
      out.push(`--env=${name}`);
    } else out.push(`${canon}=${value}`);
  }
  return out;
}
