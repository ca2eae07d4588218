// A provenance input as the artifact service would fill it, for the provenance tests.
import type { ProvenanceInput } from "../../src/artifacts/provenance/index.js";

export const PUBLIC = "https://ci.example.test";

export function sampleInput(sha256: string, extra: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return {
    subjects: [{ name: "app.tar.gz", sha256 }],
    builderId: `${PUBLIC}/provenance/builder/trusted`,
    builderVersion: { airlock: "0.1.0" },
    source: {
      repository: "https://github.com/acme/app",
      ref: "refs/tags/v1.2.0",
      commit: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
    },
    workflow: { path: ".github/workflows/release.yml", job: "build" },
    run: { id: 42, attempt: 1, trustTier: "trusted" },
    invocationId: `${PUBLIC}/runs/42/attempts/1`,
    startedOn: new Date("2026-12-04T10:00:00.250Z"),
    finishedOn: new Date("2026-12-04T10:05:00Z"),
    actions: [
      {
        name: "actions/checkout",
        repository: "https://github.com/actions/checkout",
        ref: "refs/tags/v4",
        commit: "11bd71901bbe5b1630ceea73d27597364c9af683",
      },
    ],
    builders: [
      { node: "builder-a", operator: "acme-ops", trusted: true, agreed: true, sha256 },
      { node: "builder-b", operator: "volunteers", trusted: false, agreed: true, sha256 },
    ],
    corroboration: "corroborated",
    ...extra,
  };
}
