// GitHub's filter pattern syntax for branches, tags and paths ("Filter pattern cheat sheet"):
// `*` any run of characters except `/`; `**` any run including `/` (`**/` may match nothing);
// `?` zero or one of the preceding character; `+` one or more of it; `[...]` one character from
// a set or range; `\` escapes; a leading `!` negates. In a list, later patterns override
// earlier ones.

const cache = new Map<string, RegExp>();

export function patternToRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let re = "";
  let hasAtom = false; // whether `?`/`+` have something to quantify
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
      hasAtom = false;
    } else if ((c === "?" || c === "+") && hasAtom) {
      re += c;
      hasAtom = false;
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) {
        re += "\\[";
      } else {
        const body = pattern.slice(i + 1, end).replace(/[\\\]^]/g, (x) => "\\" + x);
        re += `[${body}]`;
        i = end;
      }
      hasAtom = true;
    } else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += escape(pattern[i] as string);
      hasAtom = true;
    } else {
      re += escape(c);
      hasAtom = true;
    }
  }
  const compiled = new RegExp(`^${re}$`, "s");
  cache.set(pattern, compiled);
  return compiled;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? "\\" + c : c;
}

/** Whether `name` is selected by the list: the last pattern that matches decides (`!` deselects). */
export function matchesPatterns(name: string, patterns: string[]): boolean {
  let selected = false;
  for (const p of patterns) {
    const negated = p.startsWith("!");
    if (patternToRegExp(negated ? p.slice(1) : p).test(name)) selected = !negated;
  }
  return selected;
}
