// Validation of everything a user (or a workflow, through a label) gives the image store: image
// names, Debian package names, suites and variants. Each value is checked whole before it goes
// anywhere near a file path or an argv, and every problem is reported at once.
import { AirlockError, ErrorCode } from "../errors/index.js";

/** The image a job runs on when nothing else is chosen, on every node and in `airlock run`. */
export const DEFAULT_IMAGE = "debian-12";

/** Image names: lowercase letters, digits, `.`, `_`, `-`; a letter or digit first; at most 64. */
const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Debian policy §5.6.1: lowercase letters, digits, `+`, `-`, `.`; at least two; alphanumeric first. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const SUITE = /^[a-z][a-z0-9-]{1,31}$/;
export const VARIANTS = [
  "extract",
  "custom",
  "essential",
  "apt",
  "required",
  "minbase",
  "buildd",
  "important",
  "standard",
] as const;
export type Variant = (typeof VARIANTS)[number];

export function isImageName(name: string): boolean {
  return IMAGE_NAME.test(name) && !name.includes("..");
}

/** One line naming the bad value (shown raw, JSON-quoted so control bytes stay visible). */
function bad(what: string, value: string, rule: string): string {
  return `${what} ${JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value)} is not valid (${rule})`;
}

export function checkImageName(name: string): void {
  if (!isImageName(name)) {
    throw new AirlockError(
      ErrorCode.IMAGE_INVALID,
      bad(
        "image name",
        name,
        "lowercase letters, digits, '.', '_', '-', starting with a letter or digit, at most 64",
      ),
    );
  }
}

export interface BuildInputs {
  packages: string[];
  suite: string;
  variant: Variant;
}

/** Checks package names, suite and variant together; throws one error listing every problem. */
export function checkBuildInputs(i: { packages: string[]; suite: string; variant: string }): void {
  const problems: string[] = [];
  for (const p of i.packages) {
    if (!PACKAGE_NAME.test(p) || p.length > 128) {
      problems.push(bad("package name", p, "Debian package names: lowercase letters, digits, '+', '-', '.'"));
    }
  }
  if (!SUITE.test(i.suite)) problems.push(bad("suite", i.suite, "e.g. bookworm"));
  if (!(VARIANTS as readonly string[]).includes(i.variant)) {
    problems.push(bad("variant", i.variant, VARIANTS.join(", ")));
  }
  if (problems.length > 0) throw new AirlockError(ErrorCode.IMAGE_INVALID, problems.join("; "));
}

/** `a,b, c` → ["a","b","c"]: empty items dropped, duplicates removed, sorted (the digest must not
 * depend on the order a user typed them in). */
export function splitPackages(list: string[]): string[] {
  const all = list
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return [...new Set(all)].sort();
}

/** The package set of the default image `debian-12` (on top of the variant's essential set). */
export const DEFAULT_PACKAGES: readonly string[] = [
  "bash",
  "build-essential",
  "ca-certificates",
  "coreutils",
  "curl",
  "git",
  "gzip",
  "jq",
  "libstdc++6",
  "procps",
  "python3",
  "tar",
  "xz-utils",
  "zstd",
];
export const DEFAULT_SUITE = "bookworm";
export const DEFAULT_VARIANT: Variant = "apt";
