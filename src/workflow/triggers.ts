// Does an event trigger a workflow? GitHub's semantics for `on:` filters: branches/tags (with
// -ignore forms), paths (with -ignore), activity types, workflow_run's `workflows:` (names).
// The ref is the one the filter is about: a pull request's or merge group's base branch, the
// triggering run's head branch for workflow_run. Unknown facts (no ref, no action, no
// list of changed files) do not exclude a workflow.
import { matchesPatterns } from "./filter-pattern.js";
import type { EventFilter, Workflow } from "./model.js";

export interface TriggerEvent {
  name: string;
  /** Activity type (`opened`, `created`, ...). */
  action?: string;
  /** `refs/heads/x`, `refs/tags/v1`, or a bare branch name. For pull requests: the base branch. */
  ref?: string;
  /** Repository-relative paths changed by the event; undefined when unknown. */
  changedFiles?: string[];
  /** workflow_run: the `name:` of the workflow whose run this is about (the `workflows:` filter). */
  workflow?: string;
}

const DEFAULT_TYPES: Record<string, string[]> = {
  pull_request: ["opened", "synchronize", "reopened"],
  pull_request_target: ["opened", "synchronize", "reopened"],
  // The only activity GitHub sends for a merge queue's group.
  merge_group: ["checks_requested"],
};

function included(name: string, only: string[] | undefined, ignore: string[] | undefined): boolean {
  if (only !== undefined && !matchesPatterns(name, only)) return false;
  if (ignore !== undefined && matchesPatterns(name, ignore)) return false;
  return true;
}

function refMatches(f: EventFilter, eventName: string, ref: string): boolean {
  const isTag = ref.startsWith("refs/tags/");
  const name = ref.replace(/^refs\/(heads|tags)\//, "");
  const branchFilter = f.branches !== undefined || f.branchesIgnore !== undefined;
  const tagFilter = f.tags !== undefined || f.tagsIgnore !== undefined;
  if (isTag) {
    // A push filtered on branches only never runs for tags (and vice versa below).
    if (eventName === "push" && branchFilter && !tagFilter) return false;
    return included(name, f.tags, f.tagsIgnore);
  }
  if (eventName === "push" && tagFilter && !branchFilter) return false;
  return included(name, f.branches, f.branchesIgnore);
}

function pathsMatch(f: EventFilter, files: string[]): boolean {
  if (f.paths !== undefined && !files.some((p) => matchesPatterns(p, f.paths ?? []))) return false;
  // paths-ignore skips the run only when every changed file is ignored.
  if (f.pathsIgnore !== undefined && files.every((p) => matchesPatterns(p, f.pathsIgnore ?? [])))
    return false;
  return true;
}

export function matchesTrigger(workflow: Workflow, event: TriggerEvent): boolean {
  const f = workflow.on[event.name];
  if (f === undefined) return false;
  const types = f.types ?? DEFAULT_TYPES[event.name];
  if (types !== undefined && event.action !== undefined && !types.includes(event.action)) return false;
  // GitHub matches `workflows:` against workflow names exactly (no patterns); a workflow_run
  // trigger without the list names no workflow, so no run triggers it.
  if (event.workflow !== undefined && !(f.workflows ?? []).includes(event.workflow)) return false;
  if (event.ref !== undefined && !refMatches(f, event.name, event.ref)) return false;
  const isTagPush = event.ref?.startsWith("refs/tags/") === true;
  if (event.changedFiles !== undefined && !isTagPush && !pathsMatch(f, event.changedFiles)) return false;
  return true;
}

function field(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/**
 * The facts a GitHub-shaped payload gives for filtering (a local run's `-e` file): its activity
 * type, the ref the filters are about (a pull request's or merge group's base branch, a
 * workflow_run's head branch, else `ref`) and workflow_run's workflow name.
 */
export function triggerEventOf(event: string, payload: Record<string, unknown>, ref: string): TriggerEvent {
  const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const action = text(payload.action);
  let filterRef: string | undefined = ref;
  let workflow: string | undefined;
  if (event === "pull_request" || event === "pull_request_target") {
    filterRef = `refs/heads/${text(field(payload, "pull_request", "base", "ref")) ?? ""}`;
  } else if (event === "merge_group") {
    filterRef = text(field(payload, "merge_group", "base_ref")) ?? ref;
  } else if (event === "workflow_run") {
    const branch = text(field(payload, "workflow_run", "head_branch"));
    filterRef = branch === undefined ? undefined : `refs/heads/${branch}`;
    workflow = text(field(payload, "workflow_run", "name")) ?? text(field(payload, "workflow", "name"));
  }
  return {
    name: event,
    ...(action !== undefined ? { action } : {}),
    ...(filterRef !== undefined ? { ref: filterRef } : {}),
    ...(workflow !== undefined ? { workflow } : {}),
  };
}
