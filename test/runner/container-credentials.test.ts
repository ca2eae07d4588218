// The job container's registry `credentials:` in runJobOnNewMachine: asked for lazily by the
// provisioner with the id of the machine it is about to create, evaluated with the secrets that
// `prepare` gives for that id (on a server run: released for that machine), and `prepare` runs once
// per job — the job itself then runs with the same answer. A provisioner that pulls for one
// machine id and creates another gets SECRET_UNREADABLE, never a second release.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { planContainer } from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import {
  HOST_ROOT,
  createFakeProvisioner,
  type Provisioner,
  type RegistryCredentials,
} from "../../src/provisioners/index.js";
import { runJobOnNewMachine, type JobDescription, type RunnerEvent } from "../../src/runner/index.js";
import { folderSource, jobFromWorkflow, workspaceLoader } from "./helpers.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const CTX = { github: {}, needs: {}, strategy: {}, matrix: {}, vars: {}, inputs: {} };
const PASS = "registry-Pass-7c1e9b";

/** A fake provisioner that, like the container one, asks for the credentials before it creates. */
function pulling(idGiven: string, idMade = idGiven): Provisioner & { asked: RegistryCredentials[] } {
  const inner = createFakeProvisioner();
  const asked: RegistryCredentials[] = [];
  return {
    name: "pulling",
    asked,
    async create(spec) {
      const creds = await spec.jobContainer?.credentials?.(idGiven);
      if (creds) asked.push(creds);
      const { jobContainer: _j, ...rest } = spec;
      const m = await inner.create(rest);
      Object.defineProperty(m, "id", { value: idMade });
      return m;
    },
  };
}

function job(): JobDescription {
  const j = jobFromWorkflow(
    "c.yml",
    'name: t\non: push\njobs:\n  build:\n    runs-on: x\n    steps:\n      - run: echo "step sees $P"\n        env: { P: "${{ secrets.REG_PASS }}" }\n',
  );
  j.container = planContainer(
    {
      image: "ci/job:1",
      credentials: { username: "${{ secrets.REG_USER }}", password: "${{ secrets.REG_PASS }}" },
    },
    CTX,
    "container",
  );
  return j;
}

/** What a server run's prepare does: the secrets appear only once it is called (the release). */
function releasing(ids: string[]) {
  return (machineId: string, j: JobDescription): Promise<JobDescription> => {
    ids.push(machineId);
    return Promise.resolve({
      ...j,
      contexts: {
        ...j.contexts,
        secrets: { ...j.contexts.secrets, REG_USER: "ci-bot-user", REG_PASS: PASS },
      },
    });
  };
}

describe("job container credentials", () => {
  it("are evaluated with the secrets released for the machine about to be made; one release per job", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "airlock-creds-"));
    dirs.push(dir);
    const prov = pulling("m-1");
    const ids: string[] = [];
    const events: RunnerEvent[] = [];
    const result = await runJobOnNewMachine(
      prov,
      { name: "c", root: HOST_ROOT },
      job(),
      { actions: workspaceLoader(), source: folderSource(dir), onEvent: (e) => events.push(e) },
      { prepare: releasing(ids) },
    );
    assert.equal(result.conclusion, "success", JSON.stringify(events));
    assert.deepEqual(prov.asked, [{ username: "ci-bot-user", password: PASS }]);
    assert.deepEqual(ids, ["m-1"], "released once, for the machine's id");
    const lines = events.flatMap((e) => (e.type === "log" ? [e.text] : []));
    assert.ok(lines.includes("step sees ***"), lines.join("\n"));
  });

  it("a machine made with another id than the pull's is refused, not released again", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "airlock-creds-"));
    dirs.push(dir);
    const ids: string[] = [];
    await assert.rejects(
      runJobOnNewMachine(
        pulling("m-1", "m-2"),
        { name: "c", root: HOST_ROOT },
        job(),
        { actions: workspaceLoader(), source: folderSource(dir), onEvent: () => undefined },
        { prepare: releasing(ids) },
      ),
      (e) => isAirlockError(e, "SECRET_UNREADABLE") && /m-1, not m-2/.test(e.message),
    );
    assert.deepEqual(ids, ["m-1"]);
  });
});
