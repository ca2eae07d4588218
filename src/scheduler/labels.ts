// Label matching. chooseBest (images, flavours) applies every rule below; nodes use only score
// and missingRequired (node labels are preferences, see nodes.ts).
//
// - Labels compare case-insensitively (as GitHub's `runs-on` does); messages keep the spelling given.
// - An object's score is the number of distinct job labels found in its labels OR its required
//   labels (an object that requires `trusted` obviously carries it).
// - An object is excluded when one of its required labels is not on the job.
// - An object with score 0 is eligible only if it carries no labels at all (a "default"), and
//   only when no object of that type, eligible or not, matches any job label: a job never lands
//   on an image or flavour labelled for something else, and a job that names a label some object
//   carries meant that object, so it waits for it (e.g. "image `x` requires label `trusted`")
//   rather than silently falling back to the default.
// - Ties: highest score, then fewest extra labels (labels the job did not ask for), then name
//   (code-unit order, locale-independent), then id.

export interface Labelled {
  name: string;
  labels: readonly string[];
  requiredLabels: readonly string[];
  id?: number;
}

/** A job's labels prepared for matching: lower-cased and de-duplicated. */
export type LabelSet = ReadonlySet<string>;

export function labelSet(labels: readonly string[]): LabelSet {
  return new Set(labels.map((l) => l.toLowerCase()));
}

/** The object's required labels that the job lacks, in the object's spelling. */
export function missingRequired(job: LabelSet, obj: Pick<Labelled, "requiredLabels">): string[] {
  return obj.requiredLabels.filter((l) => !job.has(l.toLowerCase()));
}

/** Distinct job labels found in the object's labels or required labels. */
export function score(job: LabelSet, obj: Pick<Labelled, "labels" | "requiredLabels">): number {
  const seen = new Set<string>();
  for (const l of [...obj.labels, ...obj.requiredLabels]) {
    const k = l.toLowerCase();
    if (job.has(k)) seen.add(k);
  }
  return seen.size;
}

function extras(job: LabelSet, obj: Labelled): number {
  return new Set(obj.labels.map((l) => l.toLowerCase()).filter((k) => !job.has(k))).size;
}

function anyMatch(job: LabelSet, candidates: readonly Labelled[]): boolean {
  return candidates.some((c) => score(job, c) > 0);
}

function isDefault(obj: Labelled): boolean {
  return obj.labels.length === 0 && obj.requiredLabels.length === 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Best first: score, extras, name, id. */
function rank<T extends Labelled>(
  job: LabelSet,
  candidates: readonly T[],
  allowDefault: boolean,
): T | undefined {
  let best: T | undefined;
  let bestKey: [number, number] = [0, 0];
  for (const c of candidates) {
    const key: [number, number] = [score(job, c), extras(job, c)];
    if (key[0] === 0 && !(allowDefault && isDefault(c))) continue;
    if (best === undefined) {
      best = c;
      bestKey = key;
      continue;
    }
    const order =
      bestKey[0] - key[0] ||
      key[1] - bestKey[1] ||
      compareText(c.name, best.name) ||
      (c.id ?? 0) - (best.id ?? 0);
    if (order < 0) {
      best = c;
      bestKey = key;
    }
  }
  return best;
}

/** The candidate that wins for these job labels, or undefined when none is eligible. */
export function chooseBest<T extends Labelled>(
  jobLabels: readonly string[],
  candidates: readonly T[],
): T | undefined {
  return chooseBestIn(labelSet(jobLabels), candidates);
}

export function chooseBestIn<T extends Labelled>(job: LabelSet, candidates: readonly T[]): T | undefined {
  return rank(
    job,
    candidates.filter((c) => missingRequired(job, c).length === 0),
    !anyMatch(job, candidates),
  );
}

/**
 * Why chooseBest found nothing: the candidate that would have won had its required labels been
 * ignored, with the labels the job lacks; undefined when no candidate matches even then.
 */
export function blockedByRequired<T extends Labelled>(
  job: LabelSet,
  candidates: readonly T[],
): { candidate: T; missing: string[] } | undefined {
  const candidate = rank(job, candidates, !anyMatch(job, candidates));
  return candidate && { candidate, missing: missingRequired(job, candidate) };
}

// Hard labels: a job runs only where every `runs-on` label is present, as on GitHub and GitLab.
// Present = the chosen image's name, labels and required labels, the chosen flavour's labels and
// required labels, the node's (administrator-given) labels and required labels, and the labels
// every node has. A default image (one without labels) also stands for GitHub's hosted Linux
// runners, as act maps them, so `runs-on: ubuntu-latest` keeps running on the default image.

/** Every node is a self-hosted Linux machine (architecture labels are the administrator's to give). */
export const IMPLICIT_NODE_LABELS: readonly string[] = ["self-hosted", "linux"];
/** What a default image (no labels) stands for. */
export const HOSTED_ALIASES: readonly string[] = ["ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04"];

/** The labels an image and a flavour provide, lower-cased (the node adds its own). */
export function providedBy(image: Labelled, flavour: Labelled): LabelSet {
  const all = [
    image.name,
    ...image.labels,
    ...image.requiredLabels,
    ...flavour.labels,
    ...flavour.requiredLabels,
    ...IMPLICIT_NODE_LABELS,
    ...(isDefault(image) ? HOSTED_ALIASES : []),
  ];
  return labelSet(all);
}

/** The job's labels (its spelling, de-duplicated) that neither `provided` nor the node has. */
export function missingOn(
  jobLabels: readonly string[],
  provided: LabelSet,
  node: Pick<Labelled, "labels" | "requiredLabels">,
): string[] {
  const own = labelSet([...node.labels, ...node.requiredLabels]);
  const seen = new Set<string>();
  return jobLabels.filter((l) => {
    const k = l.toLowerCase();
    if (seen.has(k) || provided.has(k) || own.has(k)) return false;
    seen.add(k);
    return true;
  });
}
