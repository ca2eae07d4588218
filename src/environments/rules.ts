// Protection rules of an environment, pure: validation of what an administrator sets (every
// problem in one line), the names jobs give (hostile data: bounded, no control characters,
// case-insensitive), which refs may deploy, who may approve, and the texts a waiting or refused
// job shows. No database here.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { isRole, roleRank, type Role } from "../auth/index.js";
import { checkEnvironment, shownName } from "./names.js";
import { matchesPatterns } from "../workflow/index.js";

/** GitHub allows six required reviewers; a minimum role may be given besides. */
export const MAX_REVIEWERS = 6;
/** Patterns per list (branches, tags). */
export const MAX_PATTERNS = 50;
export const MAX_PATTERN_CHARS = 255;
/** GitHub's bound: 30 days. */
export const MAX_WAIT_TIMER_MINUTES = 43200;
export const MAX_COMMENT_CHARS = 1000;

export interface RulesInput {
  reviewers?: string[];
  reviewerRole?: string | null;
  branches?: string[];
  tags?: string[];
  waitTimerMinutes?: number;
}

export interface Rules {
  /** Named reviewers: user names as given (checked against users by the store). */
  reviewers: string[];
  reviewerRole: Role | null;
  branches: string[];
  tags: string[];
  waitTimerMinutes: number;
}

/** The canonical (lower-case) environment name, or ENVIRONMENT_INVALID in one line. */
export function environmentName(name: unknown): string {
  if (typeof name !== "string")
    throw new AirlockError(ErrorCode.ENVIRONMENT_INVALID, "an environment name must be a string");
  return checkEnvironment(name);
}

function patternProblems(kind: string, list: string[]): string[] {
  const problems: string[] = [];
  if (list.length > MAX_PATTERNS) problems.push(`at most ${MAX_PATTERNS} ${kind} patterns`);
  for (const p of list) {
    // eslint-disable-next-line no-control-regex
    if (p === "" || p.length > MAX_PATTERN_CHARS || /[\u0000-\u001f\u007f]/.test(p))
      problems.push(
        `${kind} pattern ${shownName(p)}: 1 to ${MAX_PATTERN_CHARS} characters, no control characters`,
      );
    else if (p.startsWith("!"))
      problems.push(`${kind} pattern ${shownName(p)}: '!' (exclusion) is not supported`);
  }
  return problems;
}

/** Rules from an update, over the current ones (absent fields stay); ENVIRONMENT_INVALID lists every problem. */
export function checkRules(input: RulesInput, current: Rules = NO_RULES): Rules {
  const r: Rules = {
    reviewers: input.reviewers ?? current.reviewers,
    reviewerRole:
      input.reviewerRole === undefined ? current.reviewerRole : (input.reviewerRole as Role | null),
    branches: input.branches ?? current.branches,
    tags: input.tags ?? current.tags,
    waitTimerMinutes: input.waitTimerMinutes ?? current.waitTimerMinutes,
  };
  const problems: string[] = [];
  const unique = new Set(r.reviewers.map((n) => n.toLowerCase()));
  if (unique.size !== r.reviewers.length) problems.push("a reviewer is named twice");
  if (r.reviewers.length > MAX_REVIEWERS) problems.push(`at most ${MAX_REVIEWERS} named reviewers`);
  if (r.reviewerRole !== null && !isRole(r.reviewerRole))
    problems.push(
      `reviewer role ${shownName(String(r.reviewerRole))}: one of viewer, developer, maintainer, admin`,
    );
  problems.push(...patternProblems("branch", r.branches), ...patternProblems("tag", r.tags));
  const t = r.waitTimerMinutes;
  if (!Number.isInteger(t) || t < 0 || t > MAX_WAIT_TIMER_MINUTES)
    problems.push(`the wait timer must be a whole number of minutes from 0 to ${MAX_WAIT_TIMER_MINUTES}`);
  if (problems.length > 0)
    throw new AirlockError(ErrorCode.ENVIRONMENT_INVALID, `environment rules: ${problems.join("; ")}`, {
      details: problems,
    });
  return r;
}

export const NO_RULES: Rules = {
  reviewers: [],
  reviewerRole: null,
  branches: [],
  tags: [],
  waitTimerMinutes: 0,
};

/** Whether reviewers must approve before a job deploys. */
export function needsReview(r: Pick<Rules, "reviewers" | "reviewerRole">): boolean {
  return r.reviewers.length > 0 || r.reviewerRole !== null;
}

/**
 * Whether `ref` (refs/heads/x, refs/tags/v1) may deploy. With no patterns at all every ref may;
 * with patterns, a branch must match a branch pattern and a tag a tag pattern.
 */
export function refAllowed(r: Pick<Rules, "branches" | "tags">, ref: string): boolean {
  if (r.branches.length === 0 && r.tags.length === 0) return true;
  if (ref.startsWith("refs/heads/")) return matchesPatterns(ref.slice(11), r.branches);
  if (ref.startsWith("refs/tags/")) return matchesPatterns(ref.slice(10), r.tags);
  return false;
}

/** GitHub's message for a ref that may not deploy. */
export function refRefusal(ref: string, environment: string): string {
  const tag = ref.startsWith("refs/tags/");
  const short = ref.replace(/^refs\/(heads|tags)\//, "");
  return `${tag ? "Tag" : "Branch"} ${shownName(short)} is not allowed to deploy to ${environment} due to environment protection rules.`;
}

function article(role: Role): string {
  return role === "admin" ? "an admin" : `a ${role}`;
}

/** "alice, bob or a maintainer (or higher) of acme/app": who may approve (never the actor). */
export function approversText(
  r: Pick<Rules, "reviewers" | "reviewerRole">,
  repository: string,
  actor: string,
): string {
  const named = r.reviewers.filter((n) => n.toLowerCase() !== actor.toLowerCase());
  const parts = [...named];
  if (r.reviewerRole !== null)
    parts.push(
      `${article(r.reviewerRole)}${r.reviewerRole === "admin" ? "" : " (or higher)"} of ${repository}`,
    );
  if (parts.length === 0) return "nobody (the only reviewer triggered the run)";
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)!}`;
}

export function waitingForApproval(
  environment: string,
  r: Pick<Rules, "reviewers" | "reviewerRole">,
  repository: string,
  actor: string,
): string {
  return `waiting for approval to deploy to ${environment} by ${approversText(r, repository, actor)}`;
}

export function waitingForTimer(environment: string, until: Date): string {
  return `waiting for the wait timer of ${environment} (until ${until.toISOString()})`;
}

export interface Reviewer {
  id: number;
  name: string;
  /** Their role on the repository (server administrators count as admin). */
  role: Role | undefined;
}

/**
 * Why `who` may not review a deployment to `environment`, or undefined when they may. Never the
 * user who triggered the run: its actor by name, or `triggeredByReviewer` (the store's finding:
 * the reviewer triggered this run attempt or the run it re-runs, or pushed it under a linked forge
 * login).
 */
export function reviewRefusal(
  r: { reviewerIds: number[]; reviewers: string[]; reviewerRole: Role | null },
  who: Reviewer,
  ctx: { environment: string; repository: string; actor: string; triggeredByReviewer?: boolean },
): string | undefined {
  if (ctx.triggeredByReviewer === true || who.name.toLowerCase() === ctx.actor.toLowerCase())
    return `${who.name} triggered this run and cannot approve or reject its deployment to ${ctx.environment}: another reviewer must`;
  if (r.reviewerIds.includes(who.id)) return undefined;
  if (r.reviewerRole !== null && who.role !== undefined && roleRank(who.role) >= roleRank(r.reviewerRole))
    return undefined;
  return `only ${approversText(r, ctx.repository, ctx.actor)} may review deployments to ${ctx.environment}`;
}
