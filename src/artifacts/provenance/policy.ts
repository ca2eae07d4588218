// The policy `airlock verify --policy <file>` holds a verified statement to (JSON or YAML; schema
// below, documented in docs/integrity.md). Every rule is optional; an unknown key is refused so a
// misspelt rule never passes silently. Evaluation collects every unmet rule, not the first.
import picomatch from "picomatch";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { ParsedStatement } from "./schema.js";
import { CORROBORATION_NAME, NODE_PREFIX, STATUSES } from "./statement.js";
import { shown, some } from "./text.js";

const nonEmpty = z.string().min(1);
const list = z.array(nonEmpty).min(1);

export const Policy = z
  .object({
    /** externalParameters.repository: exact, or a glob (https://github.com/acme/*). */
    repository: nonEmpty.optional(),
    /** externalParameters.ref: exact, or a glob (refs/tags/v*, refs/heads/**). */
    ref: nonEmpty.optional(),
    /** externalParameters.workflow.path: exact, or a glob. */
    workflow: nonEmpty.optional(),
    /** runDetails.builder.id must be one of these (which Airlock instance and trust tier signed). */
    builderIds: list.optional(),
    /** internalParameters.trustTier must be this (e.g. only artifacts of trusted runs). */
    trustTier: z.enum(["trusted", "untrusted"]).optional(),
    /** The corroboration status must be one of these. */
    requireStatus: z.array(z.enum(STATUSES)).min(1).optional(),
    /** At least this many builder nodes produced the same bytes (agreed). */
    minNodes: z.number().int().min(1).optional(),
    /** ... run by at least this many different operators. */
    minOperators: z.number().int().min(1).optional(),
    /** Every builder node named in the provenance is one of these. */
    allowedNodes: list.optional(),
    /** Every builder node named in the provenance is run by one of these operators. */
    allowedOperators: list.optional(),
  })
  .strict();
export type Policy = z.infer<typeof Policy>;

/** The policy in `text` (JSON or YAML); a list of problems when it is not one. */
export function parsePolicy(text: string): { policy: Policy } | { problems: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 0 });
  } catch (err) {
    return { problems: [`not JSON or YAML: ${(err as Error).message.split("\n")[0]}`] };
  }
  const r = Policy.safeParse(raw ?? {});
  if (r.success) return { policy: r.data };
  return { problems: r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`) };
}

const glob = (pattern: string): ((s: string) => boolean) =>
  picomatch(pattern, { dot: true, nobrace: true, noextglob: true });

interface NodeFact {
  node: string;
  operator: string | undefined;
  agreed: boolean;
}

/** The builder nodes and corroboration record from the statement's byproducts. */
export function buildFacts(s: ParsedStatement): { status: string | undefined; nodes: NodeFact[] } {
  const byproducts = s.predicate.runDetails.byproducts ?? [];
  const record = byproducts.find((b) => b.name === CORROBORATION_NAME);
  const status = record?.annotations?.status;
  const nodes = byproducts
    .filter((b) => b.name?.startsWith(NODE_PREFIX))
    .map((b) => ({
      node: b.name!.slice(NODE_PREFIX.length),
      operator: typeof b.annotations?.operator === "string" ? b.annotations.operator : undefined,
      agreed: b.annotations?.agreed === true,
    }));
  return { status: typeof status === "string" ? status : undefined, nodes };
}

/** Every rule of `policy` that the statement does not meet (empty: it meets them all). */
export function evaluatePolicy(policy: Policy, s: ParsedStatement): string[] {
  const problems: string[] = [];
  const ext = s.predicate.buildDefinition.externalParameters;
  const int = s.predicate.buildDefinition.internalParameters ?? {};
  const workflow = (ext.workflow ?? {}) as Record<string, unknown>;
  const matches = (field: string, pattern: string | undefined, value: unknown): void => {
    if (pattern === undefined) return;
    if (typeof value !== "string" || !glob(pattern)(value))
      problems.push(`${field} is ${shown(value)}, the policy wants ${shown(pattern)}`);
  };
  matches("repository", policy.repository, ext.repository);
  matches("ref", policy.ref, ext.ref);
  matches("workflow", policy.workflow, workflow.path);
  const builderId = s.predicate.runDetails.builder.id;
  if (policy.builderIds && !policy.builderIds.includes(builderId))
    problems.push(
      `builder id is ${shown(builderId)}, the policy allows ${some(policy.builderIds, (b) => shown(b))}`,
    );
  if (policy.trustTier && int.trustTier !== policy.trustTier)
    problems.push(`the run's trust tier is ${shown(int.trustTier)}, the policy wants ${policy.trustTier}`);
  const facts = buildFacts(s);
  if (policy.requireStatus && !policy.requireStatus.includes(facts.status as (typeof STATUSES)[number]))
    problems.push(
      `corroboration is ${shown(facts.status ?? "(none)")}, the policy wants ${policy.requireStatus.join(" or ")}`,
    );
  const agreed = facts.nodes.filter((n) => n.agreed);
  if (policy.minNodes !== undefined && agreed.length < policy.minNodes)
    problems.push(`${agreed.length} node(s) agreed, the policy wants at least ${policy.minNodes}`);
  const operators = new Set(agreed.map((n) => n.operator).filter((o) => o !== undefined));
  if (policy.minOperators !== undefined && operators.size < policy.minOperators)
    problems.push(`${operators.size} operator(s) agreed, the policy wants at least ${policy.minOperators}`);
  const allowedNodes = policy.allowedNodes;
  if (allowedNodes) {
    const others = facts.nodes.filter((n) => !allowedNodes.includes(n.node)).map((n) => n.node);
    if (others.length > 0)
      problems.push(`node(s) ${some(others, (n) => shown(n, 60))} are not allowed by the policy`);
  }
  const allowedOperators = policy.allowedOperators;
  if (allowedOperators) {
    const others = facts.nodes
      .filter((n) => n.operator === undefined || !allowedOperators.includes(n.operator))
      .map(
        (n) => `${shown(n.node, 60)} (${n.operator === undefined ? "no operator" : shown(n.operator, 60)})`,
      );
    if (others.length > 0)
      problems.push(`operator(s) of ${some(others, (o) => o)} are not allowed by the policy`);
  }
  return problems;
}
