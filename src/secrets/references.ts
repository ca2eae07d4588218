// Which secrets a workflow refers to (`secrets.NAME`, `secrets['NAME']`), read from its text
// without evaluating anything, so a run can warn — visibly — about a name that is set nowhere
// (GitHub silently gives an empty string). Comment lines are skipped; GITHUB_TOKEN is always there.
export function referencedSecrets(source: string): string[] {
  const names = new Set<string>();
  const pattern = /\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\])/g;
  for (const line of source.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    for (const m of line.matchAll(pattern)) names.add((m[1] ?? m[3]!).toUpperCase());
  }
  names.delete("GITHUB_TOKEN");
  return [...names].sort();
}

/** The referenced names that `available` (any case) does not hold. */
export function missingSecrets(referenced: readonly string[], available: Iterable<string>): string[] {
  const have = new Set([...available].map((n) => n.toUpperCase()));
  return referenced.filter((n) => !have.has(n.toUpperCase()));
}

/** One warning line: "<file>: secret FOO is not set (it will be empty)". */
export function missingSecretsWarning(file: string, missing: readonly string[]): string {
  const list = missing.join(", ");
  return missing.length === 1
    ? `${file}: secret ${list} is not set (it will be empty)`
    : `${file}: secrets ${list} are not set (they will be empty)`;
}
