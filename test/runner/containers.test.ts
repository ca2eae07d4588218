// The runner's container semantics against a FAKE MachineContainers (test/runner/fake-containers.ts):
// Docker actions (docker:// and Dockerfile) with GitHub's args, entry point, env, INPUT_* and
// container paths; services started and health-checked under "Initialize containers"; an unhealthy
// service failing the job with its last log lines; the job container's env; the node's policy
// checked before any machine exists; machines without containers failing with one line.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { planContainer, planServices } from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import {
  HOST_ROOT,
  createFakeProvisioner,
  type Machine,
  type MachineSpec,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { runJob, runJobOnNewMachine, type JobDescription, type RunnerEvent } from "../../src/runner/index.js";
import { FakeContainers } from "./fake-containers.js";
import { folderSource, jobFromWorkflow, workspaceLoader } from "./helpers.js";

const dirs: string[] = [];
const machines: Machine[] = [];
after(async () => {
  for (const m of machines.splice(0)) await m.destroy();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const CTX = { github: {}, needs: {}, strategy: {}, matrix: {}, vars: {}, inputs: {} };

function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "airlock-containers-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text, { mode: 0o755 });
  }
  return dir;
}

async function fakeMachine(withContainers = true): Promise<{ machine: Machine; fake?: FakeContainers }> {
  const machine = await createFakeProvisioner().create({ name: "t", root: HOST_ROOT });
  machines.push(machine);
  if (!withContainers) return { machine };
  const fake = new FakeContainers(machine);
  Object.defineProperty(machine, "containers", { value: fake });
  return { machine, fake };
}

async function runOn(machine: Machine, job: JobDescription, dir: string) {
  const events: RunnerEvent[] = [];
  const result = await runJob(job, {
    machine,
    actions: workspaceLoader(),
    source: folderSource(dir),
    onEvent: (e) => events.push(e),
  });
  const text = events.flatMap((e) =>
    e.type === "log" || e.type === "annotation" ? ["text" in e ? e.text : e.message] : [],
  );
  return { result, events, text };
}

const workflow = (steps: string, extra = ""): string =>
  `name: t\non: push\njobs:\n  build:\n    runs-on: x\n${extra}    steps:\n${steps}`;

describe("Docker actions", () => {
  it("docker:// steps: with.args split without a shell, INPUT_*, container paths, HOME, outputs", async () => {
    const { machine, fake } = await fakeMachine();
    const job = jobFromWorkflow(
      "d.yml",
      workflow(`      - id: hello
        uses: docker://fake/sh
        env: { STEP_VAR: "\${{ github.workspace }}/x" }
        with:
          who: airlock
          args: sh -c 'echo "hi $INPUT_WHO in $PWD home=$HOME ws=$GITHUB_WORKSPACE"; echo "said=$INPUT_WHO" >> "$GITHUB_OUTPUT"' '$(id)'
      - uses: docker://fake/sh
        with: { entrypoint: /bin/echo, args: "entry point replaced" }
      - run: echo "said \${{ steps.hello.outputs.said }}"
`),
    );
    const { result, text } = await runOn(machine, job, repo({ "a.txt": "x" }));
    assert.equal(result.conclusion, "success", text.join("\n"));
    const [first, second] = fake!.runs();
    assert.deepEqual(first!.args, [
      "sh",
      "-c",
      `echo "hi $INPUT_WHO in $PWD home=$HOME ws=$GITHUB_WORKSPACE"; echo "said=$INPUT_WHO" >> "$GITHUB_OUTPUT"`,
      "$(id)",
    ]);
    assert.equal(first!.image, "fake/sh");
    assert.equal(first!.entrypoint, undefined);
    assert.equal(first!.workdir, "/github/workspace");
    assert.equal(first!.env.INPUT_WHO, "airlock");
    assert.equal(first!.env.GITHUB_WORKSPACE, "/github/workspace");
    assert.equal(first!.env.HOME, "/github/home");
    assert.equal(first!.env.STEP_VAR, "/github/workspace/x");
    assert.equal(first!.env.GITHUB_EVENT_PATH, "/github/workflow/event.json");
    assert.match(first!.env.GITHUB_OUTPUT!, /^\/github\/file_commands\/set_output_/);
    assert.match(first!.env.RUNNER_TEMP!, /^\/github\/runner_temp$/);
    assert.equal(first!.env.PATH, undefined, "the machine's PATH means nothing in the image");
    assert.equal(first!.env.GITHUB_ACTIONS, "true");
    assert.equal(first!.env.CI, "true");
    assert.ok(
      text.includes(
        `hi airlock in ${machine.paths.workspace} home=${machine.paths.temp}/_github_home ws=${machine.paths.workspace}`,
      ),
      text.join("\n"),
    );
    assert.equal(second!.entrypoint, "/bin/echo");
    assert.deepEqual(second!.args, ["entry", "point", "replaced"]);
    assert.ok(text.includes("entry point replaced"));
    assert.ok(text.includes("said airlock"), text.join("\n"));
  });

  it("a Dockerfile action: built once per job, runs.args evaluated with inputs, runs.env under the step's, post-entrypoint", async () => {
    const { machine, fake } = await fakeMachine();
    const dir = repo({
      ".github/actions/greet/action.yml": `name: greet
inputs:
  who: { default: world }
runs:
  using: docker
  image: Dockerfile
  args: ["\${{ inputs.who }}", "", "two words"]
  env:
    FROM_RUNS: "\${{ inputs.who }}-env"
    STEP_WINS: from-runs
  post-entrypoint: /post.sh
`,
      ".github/actions/greet/Dockerfile": `FROM scratch\nCOPY entrypoint.sh /entrypoint.sh\nCOPY post.sh /post.sh\nENTRYPOINT ["/entrypoint.sh"]\n`,
      ".github/actions/greet/entrypoint.sh": `#!/bin/sh\necho "args:$#:$1:$2:$3 runs=$FROM_RUNS step=$STEP_WINS who=$INPUT_WHO"\n`,
      ".github/actions/greet/post.sh": `#!/bin/sh\necho "post ran for $INPUT_WHO"\n`,
    });
    const job = jobFromWorkflow(
      "a.yml",
      workflow(`      - uses: ./.github/actions/greet
        env: { STEP_WINS: from-step }
        with: { who: airlock }
      - uses: ./.github/actions/greet
`),
    );
    const { result, text } = await runOn(machine, job, dir);
    assert.equal(result.conclusion, "success", text.join("\n"));
    const builds = fake!.calls.filter((c) => c.kind === "build");
    assert.equal(builds.length, 1, "one build per Dockerfile per job");
    assert.equal(builds[0]!.kind === "build" && builds[0]!.dockerfile, "Dockerfile");
    assert.ok(
      text.includes("args:3:airlock::two words runs=airlock-env step=from-step who=airlock"),
      text.join("\n"),
    );
    assert.ok(
      text.includes("args:3:world::two words runs=world-env step=from-runs who=world"),
      text.join("\n"),
    );
    assert.ok(text.includes("Building docker image"));
    assert.deepEqual(
      result.steps.map((s) => [s.stage, s.conclusion]),
      [
        ["main", "success"],
        ["main", "success"],
        ["post", "success"],
        ["post", "success"],
      ],
    );
    assert.ok(text.includes("post ran for world") && text.includes("post ran for airlock"));
    assert.deepEqual(
      fake!
        .runs()
        .slice(2)
        .map((r) => r.entrypoint),
      ["/post.sh", "/post.sh"],
    );
  });

  it("a repository's Docker action: pre-entrypoint at job start, built from the actions folder", async () => {
    const { machine, fake } = await fakeMachine();
    const remote = repo({
      "acme/tool/action.yml": `name: tool
runs:
  using: docker
  image: Dockerfile
  pre-entrypoint: /pre.sh
  pre-if: always()
  entrypoint: /main.sh
`,
      "acme/tool/Dockerfile": `FROM scratch\nCOPY pre.sh /pre.sh\nCOPY main.sh /main.sh\n`,
      "acme/tool/pre.sh": `#!/bin/sh\necho "pre in $PWD"\n`,
      "acme/tool/main.sh": `#!/bin/sh\necho "main with $#"\n`,
    });
    const job = jobFromWorkflow("r.yml", workflow(`      - uses: acme/tool@v1\n`));
    const events: RunnerEvent[] = [];
    const result = await runJob(job, {
      machine,
      actions: workspaceLoader(remote),
      source: folderSource(repo({})),
      onEvent: (e) => events.push(e),
    });
    const text = events.flatMap((e) => (e.type === "log" ? [e.text] : []));
    assert.equal(result.conclusion, "success", text.join("\n"));
    assert.deepEqual(
      result.steps.map((s) => [s.stage, s.name]),
      [
        ["pre", "Pre Run acme/tool@v1"],
        ["main", "Run acme/tool@v1"],
      ],
    );
    assert.deepEqual(
      fake!.runs().map((r) => r.entrypoint),
      ["/pre.sh", "/main.sh"],
    );
    assert.equal(fake!.calls.filter((c) => c.kind === "build").length, 1);
    assert.ok(
      text.includes(`pre in ${machine.paths.workspace}`) && text.includes("main with 0"),
      text.join("\n"),
    );
  });

  it("a Docker action does not inherit the job container's env (run steps do), as on GitHub", async () => {
    const { machine, fake } = await fakeMachine();
    const job = jobFromWorkflow(
      "e.yml",
      workflow(`      - uses: docker://fake/sh
        env: { MINE: step }
        with: { args: "true" }
      - run: echo "ctr=$FROM_CONTAINER"
`),
    );
    job.container = planContainer(
      { image: "debian-12-ci", env: { FROM_CONTAINER: "yes" } },
      CTX,
      "container",
    );
    const { result, text } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "success", text.join("\n"));
    const [docker] = fake!.runs();
    assert.equal(docker!.env.MINE, "step");
    assert.equal(docker!.env.FROM_CONTAINER, undefined);
    assert.ok(text.includes("ctr=yes"), text.join("\n"));
  });

  it("a failing container fails its step with its exit code", async () => {
    const { machine } = await fakeMachine();
    const job = jobFromWorkflow(
      "f.yml",
      workflow(`      - uses: docker://fake/sh\n        with: { args: "sh -c 'exit 3'" }\n`),
    );
    const { result, text } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "failure");
    assert.ok(
      text.some((t) => t.includes("exit code 3")),
      text.join("\n"),
    );
  });

  it("a Dockerfile outside the action's folder, or reached through a symlink, is never built", async () => {
    const { machine, fake } = await fakeMachine();
    const outside = repo({ Dockerfile: "FROM scratch\n" });
    const dir = repo({
      ".github/actions/up/action.yml": "name: up\nruns: { using: docker, image: ../Dockerfile }\n",
      ".github/actions/dirlink/action.yml": "name: d\nruns: { using: docker, image: sub/Dockerfile }\n",
      ".github/actions/filelink/action.yml": "name: f\nruns: { using: docker, image: Dockerfile }\n",
      ".github/actions/inlink/action.yml": "name: i\nruns: { using: docker, image: Dockerfile }\n",
      ".github/actions/inlink/real/Dockerfile.real": `FROM scratch\nCOPY hi.sh /hi.sh\nENTRYPOINT ["/hi.sh"]\n`,
      ".github/actions/inlink/hi.sh": "#!/bin/sh\necho built-through-an-inner-link\n",
      ".github/actions/ignorelink/action.yml": "name: g\nruns: { using: docker, image: Dockerfile }\n",
      ".github/actions/ignorelink/Dockerfile": "FROM scratch\n",
    });
    const job = jobFromWorkflow(
      "s.yml",
      workflow(
        ["up", "dirlink", "filelink", "inlink", "ignorelink"]
          .map((a) => `      - uses: ./.github/actions/${a}\n        continue-on-error: true\n`)
          .join(""),
      ),
    );
    const events: RunnerEvent[] = [];
    const result = await runJob(job, {
      machine,
      actions: workspaceLoader(),
      source: {
        async checkout(m, opts) {
          await folderSource(dir).checkout(m, opts);
          // Symlinks the job could make itself: a folder and a file leading to the host.
          symlinkSync(outside, m.hostPath!(`${opts.path}/.github/actions/dirlink/sub`)!);
          symlinkSync(
            `${outside}/Dockerfile`,
            m.hostPath!(`${opts.path}/.github/actions/filelink/Dockerfile`)!,
          );
          // A Dockerfile linked inside its own folder is built from its target.
          symlinkSync("real/Dockerfile.real", m.hostPath!(`${opts.path}/.github/actions/inlink/Dockerfile`)!);
          // The builder reads an ignore file on the host: never through a symlink.
          symlinkSync("/etc/passwd", m.hostPath!(`${opts.path}/.github/actions/ignorelink/.dockerignore`)!);
        },
      },
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(
      result.steps.map((s) => s.outcome),
      ["failure", "failure", "failure", "success", "failure"],
    );
    const builds = fake!.calls.flatMap((c) => (c.kind === "build" ? [c.dockerfile] : []));
    assert.deepEqual(builds, ["real/Dockerfile.real"], "only the inner link was built");
    const errors = events.flatMap((e) => (e.type === "annotation" && e.level === "error" ? [e.message] : []));
    assert.match(errors[0]!, /inside the action's folder/);
    assert.match(errors[1]!, /leads out of the machine/);
    assert.match(errors[2]!, /symlink that leads out of its build context/);
    assert.match(errors[3]!, /\.dockerignore is a symlink/);
    assert.equal(errors.length, 4);
    const logs = events.flatMap((e) => (e.type === "log" ? [e.text] : []));
    assert.ok(logs.includes("built-through-an-inner-link"), logs.join("\n"));
  });

  it("a machine without containers fails the step with one MACHINE_UNSUPPORTED line", async () => {
    const { machine } = await fakeMachine(false);
    const job = jobFromWorkflow(
      "n.yml",
      workflow(`      - uses: docker://fake/sh\n      - if: always()\n        run: echo still\n`),
    );
    const { result, events } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "failure");
    const errors = events.flatMap((e) => (e.type === "annotation" && e.level === "error" ? [e.message] : []));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /MACHINE_UNSUPPORTED/);
    assert.ok(!errors[0]!.includes("\n"));
  });
});

describe("services and the job container", () => {
  it("services start before the first step, health is waited for, env/credentials evaluated with secrets and env", async () => {
    const { machine, fake } = await fakeMachine();
    const job = jobFromWorkflow(
      "s.yml",
      workflow(`      - run: echo first step\n`, `    env: { PORT: "5432" }\n`),
      {
        secrets: { PG_PASSWORD: "s3cret-value-long", REG: "registry-password" },
      },
    );
    job.services = planServices(
      {
        db: {
          image: "healthy-after-2",
          env: { POSTGRES_PASSWORD: "${{ secrets.PG_PASSWORD }}", PORT: "${{ env.PORT }}" },
          options: "--health-cmd pg_isready",
          credentials: { username: "me", password: "${{ secrets.REG }}" },
        },
        cache: "no-check",
      },
      CTX,
    );
    const { result, events, text } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "success", text.join("\n"));
    const starts = fake!.calls.filter((c) => c.kind === "startService");
    assert.deepEqual(
      starts.map((c) => c.kind === "startService" && c.name),
      ["db", "cache"],
    );
    const db = starts[0]!.kind === "startService" ? starts[0]!.spec : undefined;
    assert.deepEqual(db!.env, { POSTGRES_PASSWORD: "s3cret-value-long", PORT: "5432" });
    assert.deepEqual(db!.credentials, { username: "me", password: "registry-password" });
    assert.equal(fake!.calls.filter((c) => c.kind === "health" && c.name === "db").length, 3);
    // "Initialize containers" comes before the first step starts, as a group.
    const group = events.findIndex(
      (e) => e.type === "log" && e.kind === "group-start" && e.text === "Initialize containers",
    );
    const firstStep = events.findIndex((e) => e.type === "step-started");
    assert.ok(group >= 0 && group < firstStep, "Initialize containers before the first step");
    assert.ok(text.includes("Service 'db' is healthy"));
    assert.ok(!text.some((t) => t.includes("s3cret-value-long")), "secrets never logged");
  });

  it("job.services.<id> (id, network, ports) and job.container in the job context", async () => {
    const { machine } = await fakeMachine();
    const job = jobFromWorkflow(
      "p.yml",
      workflow(
        `      - run: echo "pg=\${{ job.services.db.ports[5432] }} web=\${{ job.services.web.ports['80'] }} udp=\${{ job.services.web.ports[53] }} none=\${{ job.services.db.ports[1] }} net=\${{ job.services.db.network != '' }} same=\${{ job.services.db.network == job.services.web.network }} ctr=\${{ job.container == null }}"\n`,
      ),
    );
    job.services = planServices(
      {
        db: { image: "no-check", ports: ["5432:5432"] },
        web: { image: "no-check", ports: ["8080:80/tcp", "53/udp"] },
      },
      CTX,
    );
    const { result, text } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "success", text.join("\n"));
    assert.ok(text.includes("pg=5432 web=8080 udp=53 none= net=true same=true ctr=true"), text.join("\n"));
  });

  it("an unhealthy service fails the job with its last log lines; no step runs", async () => {
    const { machine } = await fakeMachine();
    const job = jobFromWorkflow("u.yml", workflow(`      - run: echo never\n`));
    job.services = planServices({ db: "unhealthy" }, CTX);
    const { result, events, text } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "failure");
    assert.deepEqual(
      result.steps.map((s) => s.conclusion),
      ["skipped"],
    );
    assert.ok(!text.includes("never"));
    const errors = events.flatMap((e) => (e.type === "annotation" && e.level === "error" ? [e.message] : []));
    assert.ok(
      errors.some((m) => /Service 'db' is unhealthy/.test(m)),
      errors.join("\n"),
    );
    assert.ok(text.includes("db: db log line 80") && text.includes("db: db log line 31"));
    assert.ok(!text.includes("db: db log line 30"), "only the last 50 lines");
  });

  it("services on a machine without containers fail the job with MACHINE_UNSUPPORTED", async () => {
    const { machine } = await fakeMachine(false);
    const job = jobFromWorkflow("n.yml", workflow(`      - run: echo never\n`));
    job.services = planServices({ db: "postgres" }, CTX);
    const { result, events } = await runOn(machine, job, repo({}));
    assert.equal(result.conclusion, "failure");
    const errors = events.flatMap((e) => (e.type === "annotation" && e.level === "error" ? [e.message] : []));
    assert.ok(
      errors.some((m) => /services.*not supported by this provisioner/.test(m)),
      errors.join("\n"),
    );
  });
});

describe("runJobOnNewMachine: the node's policy and the job container", () => {
  function recording(): Provisioner & { specs: MachineSpec[] } {
    const inner = createFakeProvisioner();
    const specs: MachineSpec[] = [];
    return {
      name: "recording",
      specs,
      async create(spec) {
        specs.push(spec);
        const { jobContainer: _j, ...rest } = spec;
        const m = await inner.create(rest);
        Object.defineProperty(m, "containers", { value: new FakeContainers(m) });
        return m;
      },
    };
  }
  const deps = (dir: string, events: RunnerEvent[] = []) => ({
    actions: workspaceLoader(),
    source: folderSource(dir),
    onEvent: (e: RunnerEvent) => events.push(e),
  });

  it("passes jobContainer (options normalised, env for the runner) and gives its env to every step", async () => {
    const prov = recording();
    const job = jobFromWorkflow(
      "c.yml",
      workflow(`      - run: echo "db=$DB_URL own=$OWN"\n        env: { OWN: step }\n`),
      { secrets: { DB_PASS: "a-long-db-password" } },
    );
    job.container = planContainer(
      {
        image: "debian-12-ci",
        options: "-e X=1 --health-cmd 'true'",
        env: { DB_URL: "pg://u:${{ secrets.DB_PASS }}@db", OWN: "container" },
      },
      CTX,
      "container",
    );
    const events: RunnerEvent[] = [];
    const result = await runJobOnNewMachine(
      prov,
      { name: "c", root: HOST_ROOT },
      job,
      deps(repo({}), events),
    );
    assert.equal(result.conclusion, "success");
    assert.deepEqual(prov.specs[0]!.jobContainer, {
      image: "debian-12-ci",
      env: {},
      options: ["--env=X=1", "--health-cmd=true"],
      volumes: [],
    });
    const lines = events.flatMap((e) => (e.type === "log" ? [e.text] : []));
    assert.ok(lines.includes("db=pg://u:***@db own=step"), lines.join("\n"));
  });

  it("refuses what the pool does not allow before any machine exists; the pool can allow it", async () => {
    const prov = recording();
    const job = jobFromWorkflow("p.yml", workflow(`      - run: "true"\n`));
    job.services = planServices({ db: { image: "postgres", options: "--privileged" } }, CTX);
    await assert.rejects(
      runJobOnNewMachine(prov, { name: "p", root: HOST_ROOT }, job, deps(repo({}))),
      (e: unknown) =>
        isAirlockError(e, "CONTAINER_OPTION_REFUSED") && /service 'db'.*--privileged/.test(e.message),
    );
    assert.equal(prov.specs.length, 0, "no machine was created");
    let started: string[] = [];
    const allowing: Provisioner = {
      name: "allowing",
      async create(spec) {
        const m = await prov.create(spec);
        const fake = m.containers as FakeContainers;
        const start = fake.startService.bind(fake);
        fake.startService = (name, s) => {
          started = [...s.options];
          return start(name, s);
        };
        return m;
      },
    };
    const ok = await runJobOnNewMachine(allowing, { name: "p", root: HOST_ROOT }, job, deps(repo({})), {
      containers: { allowOptions: ["--privileged"] },
    });
    assert.equal(ok.conclusion, "success");
    assert.deepEqual(started, ["--privileged"], "the service gets the checked, normalised options");
  });

  it("a provisioner without job containers refuses with MACHINE_UNSUPPORTED", async () => {
    const job = jobFromWorkflow("f.yml", workflow(`      - run: "true"\n`));
    job.container = planContainer("node:20", CTX, "container");
    await assert.rejects(
      runJobOnNewMachine(createFakeProvisioner(), { name: "f", root: HOST_ROOT }, job, deps(repo({}))),
      (e: unknown) => isAirlockError(e, "MACHINE_UNSUPPORTED") && !e.message.includes("\n"),
    );
  });
});
