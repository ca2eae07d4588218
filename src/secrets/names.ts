// GitHub's rules for secret and variable names, environment names, value sizes and how many of
// them a level may hold — checked before anything is stored or encrypted. Names are
// case-insensitive: they are stored upper-case, as GitHub does; environment names lower-case.
// Every refusal is one line naming the problems (all of them), never the value.
import { AirlockError, ErrorCode } from "../errors/index.js";

export type Kind = "secret" | "variable";
/** Where a secret or variable lives (./scope.ts). */
export type Level = "organization" | "repository" | "environment";

/** 48 KB, GitHub's cap for a secret and for a variable (UTF-8 bytes). */
export const MAX_VALUE_BYTES = 48 * 1024;
export const MAX_NAME_CHARS = 200;
export const MAX_ENVIRONMENT_CHARS = 255;

/** How many a level may hold (GitHub's limits). */
export const LIMITS: Record<Kind, Record<Level, number>> = {
  secret: { organization: 1000, repository: 100, environment: 100 },
  variable: { organization: 1000, repository: 500, environment: 100 },
};

/** A name from user input, bounded and quoted so control characters show. */
export function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** The problems of a name, none when it is valid. */
export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name === "") return ["it is empty"];
  if (name.length > MAX_NAME_CHARS) problems.push(`it is longer than ${MAX_NAME_CHARS} characters`);
  if (/[^A-Za-z0-9_]/.test(name)) problems.push("only letters, digits and '_' are allowed (no spaces)");
  if (/^[0-9]/.test(name)) problems.push("it must not start with a digit");
  if (/^GITHUB_/i.test(name)) problems.push("the GITHUB_ prefix is reserved");
  return problems;
}

/** The canonical (upper-case) name, or SECRET_INVALID in one line. */
export function checkName(kind: Kind, name: string): string {
  const problems = nameProblems(name);
  if (problems.length > 0)
    throw new AirlockError(ErrorCode.SECRET_INVALID, `${kind} name ${shown(name)}: ${problems.join("; ")}`, {
      details: problems,
    });
  return name.toUpperCase();
}

/** The canonical (lower-case) environment name, or SECRET_INVALID in one line. */
export function checkEnvironment(env: string): string {
  const problems: string[] = [];
  if (env === "") problems.push("it is empty");
  if (env.length > MAX_ENVIRONMENT_CHARS)
    problems.push(`it is longer than ${MAX_ENVIRONMENT_CHARS} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/]/.test(env)) problems.push("control characters and '/' are not allowed");
  if (env.trim() !== env) problems.push("it must not start or end with white space");
  if (problems.length > 0)
    throw new AirlockError(
      ErrorCode.SECRET_INVALID,
      `environment name ${shown(env)}: ${problems.join("; ")}`,
      {
        details: problems,
      },
    );
  return env.toLowerCase();
}

/** Refuses an empty value or one over 48 KB; the message gives sizes, never the value. */
export function checkValue(kind: Kind, name: string, value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length === 0)
    throw new AirlockError(ErrorCode.SECRET_INVALID, `${kind} ${name}: the value is empty`);
  if (bytes.length > MAX_VALUE_BYTES)
    throw new AirlockError(
      ErrorCode.SECRET_TOO_LARGE,
      `${kind} ${name}: the value is ${bytes.length} bytes; the limit is ${MAX_VALUE_BYTES} (48 KB)`,
    );
  return bytes;
}
