// Which secrets a job's description refers to (and so which are sealed into it): named ones by
// either syntax and in any case, every one for a use of the whole context, none for text outside
// expressions or a property that only happens to be called `secrets`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { secretsReferenced } from "../../src/orchestrator/job-secrets.js";

const job = (steps: unknown[], env: Record<string, unknown> = {}) =>
  ({ env: [env], steps, outputs: {} }) as unknown as Parameters<typeof secretsReferenced>[0];

describe("secretsReferenced", () => {
  it("finds named secrets in env, steps and with", () => {
    const got = secretsReferenced(
      job(
        [
          { run: "echo ${{ secrets.Deploy_Token }} and ${{ secrets[ 'NPM' ] }}" },
          { uses: "x/y@v1", with: { token: '${{ secrets["PYPI"] || secrets.FALLBACK }}' } },
        ],
        { A: "${{ format('{0}', secrets.ENV_ONE) }}" },
      ),
    );
    assert.deepEqual([...(got as Set<string>)].sort(), [
      "DEPLOY_TOKEN",
      "ENV_ONE",
      "FALLBACK",
      "NPM",
      "PYPI",
    ]);
  });

  it("takes them all for a use of the whole context", () => {
    assert.equal(secretsReferenced(job([{ run: "${{ toJSON(secrets) }}" }])), "all");
    assert.equal(secretsReferenced(job([{ run: "${{ secrets[format('K_{0}', matrix.x)] }}" }])), "all");
  });

  it("finds secrets in the env and credentials of container: and services: (evaluated on the node)", () => {
    const got = secretsReferenced({
      ...job([]),
      container: { image: "a", env: { P: "${{ secrets.JOB_C }}" }, options: [], volumes: [] },
      services: {
        db: {
          image: "b",
          env: {},
          options: [],
          volumes: [],
          credentials: { username: "u", password: "${{ secrets.REGISTRY }}" },
        },
      },
    });
    assert.deepEqual([...(got as Set<string>)].sort(), ["JOB_C", "REGISTRY"]);
  });

  it("ignores text outside expressions and other objects' `secrets`", () => {
    const got = secretsReferenced(
      job([{ run: "echo my secrets.FOO are safe ${{ github.event.secrets.BAR }} ${{ env.secrets }}" }]),
    );
    assert.deepEqual([...(got as Set<string>)], []);
  });
});
