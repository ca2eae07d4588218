// The container provisioner's side of the one options table (option-table.ts): `options:` words the
// node allowed (checkContainer with the pool's policy) rendered into podman arguments for a job
// container or a sibling. It re-reads the words through the same table with what the pool allowed
// (the spec's allowOptions, set by checkContainer), so what reaches podman is exactly what the
// table says — the last line, should a spec arrive unchecked; `--env` values become variables for
// the private env-file, never argv words (they may be secrets).
import { checkOptions } from "./options.js";
import { OPTIONS, type ContainerTarget } from "./option-table.js";

export interface PodmanOptions {
  /** podman arguments, `--long-name=value` or `--flag`. */
  args: string[];
  /** Variables set by `--env NAME=value`, for the env-file. */
  env: Record<string, string>;
}

/**
 * `options:` of a container → podman arguments and variables; `allowOptions`: what the pool allows
 * beyond the default list. Throws CONTAINER_OPTION_REFUSED.
 */
export function podmanOptions(
  words: readonly string[],
  target: ContainerTarget,
  what = target === "job" ? "container" : "service",
  allowOptions: readonly string[] = [],
): PodmanOptions {
  const out: PodmanOptions = { args: [], env: {} };
  for (const word of checkOptions(words, { allowOptions }, what, target)) {
    const eq = word.indexOf("=");
    const name = eq < 0 ? word : word.slice(0, eq);
    const use = OPTIONS[name]![target];
    if (use === "env") {
      const value = word.slice(eq + 1);
      const at = value.indexOf("=");
      out.env[value.slice(0, at)] = value.slice(at + 1);
    } else if (use === "flag") out.args.push(word);
    // "inherent": the container is so already (checkOptions refused the rest).
  }
  return out;
}
