// The artifact service v4 operations of the OpenAPI document (routes/artifacts-twirp.ts and
// artifacts-blobs.ts): the twirp methods `@actions/artifact` calls with a job's runtime token, and
// the signed blob URLs (Azure block blob upload, GET download) they hand out.
import { arr, bool, obj, responseSchema, str, type Operation } from "./openapi-parts.js";
import { SignedBlobQuery, twirpOperation } from "./openapi-results.js";
import {
  ArtifactNameBody,
  ArtifactPolicyBody,
  ArtifactPolicyView,
  ArtifactView,
  BlobParams,
  CreateArtifactBody,
  FinalizeArtifactBody,
  ListArtifactsBody,
  MismatchList,
  RunArtifactParams,
  RunArtifactViewSchema,
} from "./schemas-artifacts.js";
import { IdParams } from "./schemas.js";

const twirp = twirpOperation("ArtifactService", [400, 403, 404, 409, 413]);
const BlobQuery = SignedBlobQuery;

export const ARTIFACT_OPERATIONS: Operation[] = [
  twirp(
    "CreateArtifact",
    "Begin an upload: a row in state uploading and a signed upload URL (names unique per run attempt); 413 ARTIFACT_QUOTA_EXCEEDED when the repository is at its quota",
    CreateArtifactBody,
    [200, obj({ ok: bool, signed_upload_url: str })],
  ),
  twirp(
    "FinalizeArtifact",
    "Finish an upload: the declared size and sha256 must equal what the server computed (ARTIFACT_DIGEST_MISMATCH otherwise); 413 ARTIFACT_QUOTA_EXCEEDED (the upload removed) when it would pass the repository's quota",
    FinalizeArtifactBody,
    [200, obj({ ok: bool, artifact_id: str })],
  ),
  twirp(
    "ListArtifacts",
    "The run's finalized artifacts the job's run attempt sees (newest attempt per name; quarantined ones, status mismatch, never), by name or id",
    ListArtifactsBody,
    [200, obj({ artifacts: arr(responseSchema(ArtifactView)) })],
  ),
  twirp(
    "GetSignedArtifactURL",
    "A signed download URL (10 minutes) for an artifact of the run",
    ArtifactNameBody,
    [200, obj({ signed_url: str })],
  ),
  twirp("DeleteArtifact", "Delete a finalized artifact of the job's run attempt", ArtifactNameBody, [
    200,
    obj({ ok: bool, artifact_id: str }),
  ]),
  {
    method: "put",
    path: "/artifacts/blobs/:id",
    summary:
      "Signed upload URL (1 hour, its job attempt live): Azure Put Block (?comp=block&blockid=…, body the block) or Put Block List (?comp=blocklist, XML <BlockList>); 201; errors as Azure XML with x-ms-error-code",
    security: "none",
    params: BlobParams,
    query: BlobQuery,
    ok: [201, "Block staged, or block list committed"],
    errors: [400, 401, 404, 409, 413],
  },
  {
    method: "get",
    path: "/artifacts/blobs/:id",
    summary:
      "Signed download URL (10 minutes, its job attempt live): the artifact's bytes (200), or one Range (206)",
    security: "none",
    params: BlobParams,
    query: BlobQuery,
    ok: [200, "The artifact's bytes", "application/octet-stream"],
    errors: [401, 404, 416],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/artifacts",
    summary:
      "The run's finalized artifacts, every attempt's (newest attempt first): size, sha256, job, node, trust tier",
    params: IdParams,
    ok: [200, arr(responseSchema(RunArtifactViewSchema))],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/artifacts/:artifact/download",
    summary: "One artifact's bytes (the zip its job uploaded), streamed; x-airlock-sha256 carries its digest",
    params: RunArtifactParams,
    ok: [200, "The artifact's bytes", "application/zip"],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/artifacts/:artifact/provenance",
    summary:
      "The artifact's provenance as the orchestrator signed it: a DSSE envelope (in-toto Statement v1, SLSA Provenance v1), for `airlock verify`",
    params: RunArtifactParams,
    ok: [200, "The DSSE envelope (JSON)"],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/mismatches",
    summary:
      "What differed when the run's independent builds disagreed: per quarantined artifact and differing rebuild, the builds (node, operator, worker trust, digest) and the archive diff (entries only one side has, changed entries, the first differing bytes)",
    params: IdParams,
    ok: [200, responseSchema(MismatchList)],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/artifacts/:artifact/promote",
    summary:
      "Promote an artifact (mark it releasable) when the repository's policy allows its status and its run's trust tier; 409 ARTIFACT_NOT_PROMOTABLE with the reason otherwise (mismatch never); audited either way; promoting again changes nothing",
    params: RunArtifactParams,
    ok: [200, responseSchema(RunArtifactViewSchema)],
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/v1/repositories/:id/artifact-policy",
    summary:
      "The repository's artifact policy: its quota (null: the server's default), the quota in force and the bytes it counts, the promotion gate",
    params: IdParams,
    ok: [200, responseSchema(ArtifactPolicyView)],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/artifact-policy",
    summary:
      "Set the repository's artifact policy (server administrators; audited): quotaBytes (null: the server's default) and promote { requireStatus, allowUntrustedRuns }",
    params: IdParams,
    body: ArtifactPolicyBody,
    ok: [200, responseSchema(ArtifactPolicyView)],
    errors: [400, 404],
  },
];
