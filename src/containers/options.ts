// The options allow-list of `container:` / `services:` (`options:`, already split into words by
// words.ts), over the one table of option-table.ts. Deny by default: only options that act inside
// the container are allowed; anything that would weaken the wall around it (privileges,
// capabilities, host namespaces, devices, host mounts, the network, kernel settings) or the pool's
// limits is refused with CONTAINER_OPTION_REFUSED and one line — unless the pool explicitly allows
// that option (`ContainerPolicy.allowOptions`, the agent's --container-allow-option); what Airlock
// decides itself (name, labels airlock.*, ports, hosts, the runtime) is refused whatever the pool
// says, and so is an option the target container cannot honour (`--user` on a job container).
// Unknown options are refused too. The result is normalised to `--long-name=value` words (or
// `--flag`), so that a value starting with "-" can never be read as an option by the engine.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { ALIASES, ISOLATION, OPTIONS, SHORT, type ContainerTarget, type OptionDef } from "./option-table.js";

/** What the node allows beyond the default list (options by their long name, e.g. "--cap-add"). */
export interface ContainerPolicy {
  allowOptions?: readonly string[];
}

function refuse(what: string, message: string): never {
  throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `${what}: ${message}`);
}

function show(word: string): string {
  return JSON.stringify(word.length > 60 ? `${word.slice(0, 60)}…` : word);
}

/**
 * Checks `words` (from splitWords) against the allow-list and the pool's policy; returns them
 * normalised. Throws CONTAINER_OPTION_REFUSED naming the first refused word; `what` names the
 * container ("container", "service 'db'"), `target` says which kind it is.
 */
export function checkOptions(
  words: readonly string[],
  policy: ContainerPolicy = {},
  what = "container",
  target: ContainerTarget = what === "container" ? "job" : "service",
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
    if (def.never) return refuse(what, `option ${name} is refused: ${def.why ?? ISOLATION}`);
    if (!def.safe && !allowed.has(name))
      return refuse(what, `option ${name} is refused: ${def.why ?? ISOLATION} (a pool may allow it)`);
    const use = def[target];
    if (typeof use === "object") return refuse(what, `option ${name} is refused: ${use.refused}`);
    if (def.value) {
      if (value === undefined) return refuse(what, `option ${name} needs a value`);
      const bad = (def.safe && !allowed.has(name) ? def.check?.(value) : undefined) ?? def.always?.(value);
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
      const written = eq < 0 ? word : word.slice(0, eq);
      const name = Object.hasOwn(ALIASES, written) ? ALIASES[written]! : written;
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
