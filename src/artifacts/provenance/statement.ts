// The provenance statement the orchestrator writes for an artifact (issue 13, item 7): an in-toto
// Statement v1 whose predicate is SLSA Provenance v1, built from a plain typed input so the
// artifact service can feed it what the control plane knows (never what a worker says about
// itself). Field names follow in-toto/attestation spec/v1 (statement.md, resource_descriptor.md)
// and slsa-framework/slsa spec/build-provenance.md exactly; what Airlock adds lives in our own
// parameter objects and in byproducts' annotations, which SLSA leaves to the builder.

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const PREDICATE_TYPE = "https://slsa.dev/provenance/v1";
/** What our buildType means is written in docs/integrity.md ("Provenance"). */
export const BUILD_TYPE = "urn:airlock:buildtype:workflow-job:v1";
/** byproducts[].name of the corroboration record, and the prefix of each builder node's. */
export const CORROBORATION_NAME = "corroboration";
export const NODE_PREFIX = "node/";

export const STATUSES = ["corroborated", "trusted", "unverified", "mismatch"] as const;
export type CorroborationStatus = (typeof STATUSES)[number];
export type TrustTier = "trusted" | "untrusted";

/** An in-toto ResourceDescriptor (at least one of uri, digest, content). */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface ProvenanceInput {
  /** The artifacts: a file name and its SHA-256 (lowercase hex). */
  subjects: Array<{ name: string; sha256: string }>;
  /** runDetails.builder.id: see builderIdOf. */
  builderId: string;
  /** Component → version (e.g. { airlock: "0.1.0" }). */
  builderVersion?: Record<string, string>;
  builderDependencies?: ResourceDescriptor[];
  /**
   * The repository's name in Airlock, and where its code was fetched from (sourceLocation of its
   * clone URL; absent: the name, read as a GitHub repository).
   */
  source: { repository: string; ref: string; commit: string; url?: string };
  workflow: { path: string; job: string };
  run: { id: number; attempt: number; trustTier: TrustTier };
  /** Unique per build: see invocationIdOf. */
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /**
   * Actions the job used, each at the commit the orchestrator resolved its ref to (its repository
   * URL; `name`: owner/repo as the workflow wrote it).
   */
  actions: Array<{ repository: string; ref: string; commit: string; name?: string }>;
  /**
   * The nodes that built it, their operators (null: none recorded, migration 033), whether the
   * node is a trusted worker, and whether its output matched the accepted one.
   */
  builders: Array<{
    node: string;
    operator: string | null;
    trusted: boolean;
    agreed: boolean;
    sha256?: string;
  }>;
  corroboration: CorroborationStatus;
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof PREDICATE_TYPE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: {
        repository: string;
        ref: string;
        commit: string;
        workflow: { path: string; job: string };
      };
      internalParameters: { runId: number; runAttempt: number; trustTier: TrustTier };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; builderDependencies?: ResourceDescriptor[]; version?: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
      byproducts: ResourceDescriptor[];
    };
  };
}

/** A builder id per trust tier: SLSA wants modes with different guarantees to differ in id. */
export function builderIdOf(publicUrl: string, tier: TrustTier): string {
  return `${publicUrl.replace(/\/+$/, "")}/provenance/builder/${tier}`;
}

export function invocationIdOf(publicUrl: string, runId: number, attempt: number): string {
  return `${publicUrl.replace(/\/+$/, "")}/runs/${runId}/attempts/${attempt}`;
}

/** RFC 3339 in UTC, whole seconds (the SLSA schema's <YYYY>-<MM>-<DD>T<hh>:<mm>:<ss>Z). */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Where a repository's code comes from, as a URL for provenance: its clone URL without credentials,
 * query or fragment (and without a trailing .git); a local path as file://; scp-like
 * `user@host:path` as ssh://host/path. Undefined when it is none of these.
 */
export function sourceLocation(cloneUrl: string): string | undefined {
  if (cloneUrl.startsWith("/")) return `file://${cloneUrl.replace(/\.git$/, "")}`;
  const scp = /^[^@\s/]+@([^:\s/]+):([^\s]+)$/.exec(cloneUrl);
  if (scp) return `ssh://${scp[1]}/${scp[2]!.replace(/^\/+/, "").replace(/\.git$/, "")}`;
  let u: URL;
  try {
    u = new URL(cloneUrl);
  } catch {
    return undefined;
  }
  if (!/^(https?|ssh|git|file):$/.test(u.protocol)) return undefined;
  u.username = "";
  u.password = "";
  u.search = "";
  u.hash = "";
  return u.toString().replace(/\.git$/, "");
}

/** The SPDX-style git URI of a repository at a ref (git+https://host/owner/repo@refs/heads/main). */
export function gitUri(repository: string, ref: string): string {
  const base = /^[a-z][a-z0-9+.-]*:/i.test(repository) ? repository : `https://github.com/${repository}`;
  const git = base.startsWith("git+") ? base : `git+${base}`;
  return ref ? `${git}@${ref}` : git;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The statement for `input`; throws on a digest that is not lowercase hex SHA-256 (a caller bug). */
export function buildStatement(input: ProvenanceInput): Statement {
  if (input.subjects.length === 0) throw new Error("provenance: no subject");
  for (const s of [...input.subjects, ...input.builders.filter((b) => b.sha256 !== undefined)])
    if (!HEX64.test(s.sha256!)) throw new Error(`provenance: not a SHA-256: ${s.sha256}`);
  const agreed = input.builders.filter((b) => b.agreed).map((b) => b.node);
  const nodes: ResourceDescriptor[] = input.builders.map((b) => ({
    name: `${NODE_PREFIX}${b.node}`,
    uri: `urn:airlock:node:${encodeURIComponent(b.node)}`,
    ...(b.sha256 ? { digest: { sha256: b.sha256 } } : {}),
    annotations: { operator: b.operator, trust: b.trusted ? "trusted" : "untrusted", agreed: b.agreed },
  }));
  const builder: Statement["predicate"]["runDetails"]["builder"] = { id: input.builderId };
  if (input.builderDependencies?.length) builder.builderDependencies = input.builderDependencies;
  if (input.builderVersion) builder.version = { ...input.builderVersion };
  return {
    _type: STATEMENT_TYPE,
    subject: input.subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          repository: input.source.repository,
          ref: input.source.ref,
          commit: input.source.commit,
          workflow: { path: input.workflow.path, job: input.workflow.job },
        },
        internalParameters: {
          runId: input.run.id,
          runAttempt: input.run.attempt,
          trustTier: input.run.trustTier,
        },
        resolvedDependencies: [
          {
            uri: gitUri(input.source.url ?? input.source.repository, input.source.ref),
            digest: { gitCommit: input.source.commit },
          },
          ...input.actions.map((a) => ({
            ...(a.name === undefined ? {} : { name: a.name }),
            uri: gitUri(a.repository, a.ref),
            digest: { gitCommit: a.commit },
          })),
        ],
      },
      runDetails: {
        builder,
        metadata: {
          invocationId: input.invocationId,
          startedOn: timestamp(input.startedOn),
          finishedOn: timestamp(input.finishedOn),
        },
        byproducts: [
          {
            name: CORROBORATION_NAME,
            uri: "urn:airlock:corroboration",
            annotations: { status: input.corroboration, agreedNodes: agreed },
          },
          ...nodes,
        ],
      },
    },
  };
}
