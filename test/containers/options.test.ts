// The workflow side of containers, pure: word splitting without a shell (hostile inputs), the
// options allow-list and the pool's say-so, volume rules, and the planner's ContainerSpec.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkContainer,
  checkOptions,
  checkVolume,
  dockerActionMounts,
  parseVolume,
  planContainer,
  planServices,
  splitWords,
  toContainerPath,
  MAX_WORDS,
  OPTIONS,
  podmanOptions,
} from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";

const refused = (f: () => unknown, match?: RegExp): void => {
  assert.throws(f, (e: unknown) => {
    assert.ok(isAirlockError(e, "CONTAINER_OPTION_REFUSED"), String(e));
    assert.ok(!e.message.includes("\n"), "one line");
    if (match) assert.match(e.message, match);
    return true;
  });
};

describe("splitWords", () => {
  it("splits on whitespace and honours quotes and backslashes, nothing else", () => {
    assert.deepEqual(splitWords(`  --health-cmd "pg_isready -U \\"po stgres\\"" \t--x='a b'  c\\ d\n`), [
      "--health-cmd",
      'pg_isready -U "po stgres"',
      "--x=a b",
      "c d",
    ]);
    assert.deepEqual(splitWords(`'it''s' "" ''`), ["its", "", ""]);
    assert.deepEqual(splitWords(`"a\\nb" 'c\\d'`), ["a\\nb", "c\\d"]);
    assert.deepEqual(splitWords(""), []);
    assert.deepEqual(splitWords("   \n "), []);
  });

  it("keeps shell syntax as plain characters: no expansion, substitution, globbing or redirection", () => {
    const text = "$HOME $(id) `id` *.txt a;b a|b a&&b >out <in ~ {a,b} !x";
    assert.deepEqual(splitWords(text), text.split(" "));
  });

  it("refuses unterminated quotes, a trailing backslash, control characters and oversize input", () => {
    refused(() => splitWords(`--a "b`), /unterminated double quote/);
    refused(() => splitWords(`--a 'b`), /unterminated single quote/);
    refused(() => splitWords(`--a \\`), /backslash/);
    refused(() => splitWords("--a\u0000b"), /control/);
    refused(() => splitWords("--a \u001b[31m"), /control/);
    refused(() => splitWords("x".repeat(70_000)), /longer/);
    refused(() => splitWords("a ".repeat(MAX_WORDS + 1)), /words/);
  });
});

describe("checkOptions", () => {
  it("allows the safe set and normalises to --name=value", () => {
    const words = splitWords(
      `--health-cmd "pg_isready -U postgres" --health-interval 10s --health-timeout=5s --health-retries 5 ` +
        `-e A=1 --env=B=two -eC=3 -w /src --user 1000:1000 -h db --entrypoint /bin/sh --tmpfs /run:size=64m ` +
        `--init --read-only --cap-drop ALL -t`,
    );
    assert.deepEqual(checkOptions(words, {}, "service 'db'"), [
      "--health-cmd=pg_isready -U postgres",
      "--health-interval=10s",
      "--health-timeout=5s",
      "--health-retries=5",
      "--env=A=1",
      "--env=B=two",
      "--env=C=3",
      "--workdir=/src",
      "--user=1000:1000",
      "--hostname=db",
      "--entrypoint=/bin/sh",
      "--tmpfs=/run:size=64m",
      "--init",
      "--read-only",
      "--cap-drop=ALL",
      "--tty",
    ]);
  });

  it("a value that looks like an option stays a value (one word, never re-read as an option)", () => {
    assert.deepEqual(checkOptions(["--workdir", "--privileged"], {}, "service 'db'"), [
      "--workdir=--privileged",
    ]);
    assert.deepEqual(checkOptions(["-e", "X=--privileged"]), ["--env=X=--privileged"]);
  });

  for (const [text, why] of [
    ["--privileged", /--privileged is refused/],
    ["--cap-add SYS_ADMIN", /--cap-add/],
    ["--cap-add=ALL", /--cap-add/],
    ["--security-opt seccomp=unconfined", /--security-opt/],
    ["--network host", /--network.*pool's/],
    ["--net=host", /--network/],
    ["--network=container:other", /--network/],
    ["--pid=host", /--pid/],
    ["--ipc host", /--ipc/],
    ["--uts=host", /--uts/],
    ["--userns=host", /--userns/],
    ["--device /dev/kvm", /--device/],
    ["-v /:/host", /--volume.*host mounts/],
    ["--volume=/etc:/etc", /--volume/],
    ["--mount type=bind,source=/,target=/h", /--mount/],
    ["--volumes-from other", /--volumes-from/],
    ["--sysctl kernel.x=1", /--sysctl/],
    ["--cgroupns host", /--cgroupns/],
    ["--cgroup-parent /", /--cgroup-parent/],
    ["--runtime=runc", /--runtime/],
    ["--group-add 0", /--group-add/],
    ["--env-file /etc/shadow", /--env-file.*host/],
    ["--name evil", /--name/],
    ["--network-alias other", /--network-alias/],
    ["-p 80:80", /--publish/],
    ["--label airlock.job=1", /--label/],
    ["--memory 100g", /--memory.*pool's/],
    ["--shm-size 2g", /--shm-size/],
    ["--rm", /--rm/],
    ["--frobnicate", /unknown options/],
    ["-Z", /unknown options/],
    ["-it", /--interactive/],
    ["-tv/:/h", /--volume/],
    ["-e HOME", /NAME=value/],
    ["--env PATH", /NAME=value/],
    ["--tmpfs relative", /absolute/],
    ["--workdir", /needs a value/],
    ["--init=yes", /takes no value/],
    ["alpine", /not an option/],
    ["-- --privileged", /not an option/],
    ["--health-cmd true sh", /not an option/],
  ] as const) {
    it(`refuses ${text}`, () => refused(() => checkOptions(splitWords(text), {}, "service 'x'"), why));
  }

  it("a pool may allow a refused option by its long name (also through its short form)", () => {
    const policy = { allowOptions: ["--cap-add", "--network", "--volume"] };
    assert.deepEqual(checkOptions(splitWords("--cap-add NET_ADMIN --network=host -v /a:/b"), policy), [
      "--cap-add=NET_ADMIN",
      "--network=host",
      "--volume=/a:/b",
    ]);
    refused(() => checkOptions(["--privileged"], policy), /--privileged/);
    // Allowing something never makes unknown options known.
    refused(() => checkOptions(["--whatever"], { allowOptions: ["--whatever"] }), /unknown/);
  });

  it("what Airlock decides stays refused whatever the pool allows", () => {
    for (const [text, why] of [
      ["--name x", /--name.*Airlock/],
      ["--rm", /--rm/],
      ["-p 80:80", /--publish/],
      ["--add-host a:1.2.3.4", /--add-host/],
      ["--runtime=crun", /--runtime/],
      ["--health-start-interval 1s", /start interval/],
      ["--label airlock.machine=x", /airlock\.\*/],
    ] as const) {
      const opt = splitWords(text)[0]!.split("=")[0]!;
      const long = opt === "-p" ? "--publish" : opt;
      refused(() => checkOptions(splitWords(text), { allowOptions: [long] }, "service 'x'"), why);
    }
    assert.deepEqual(checkOptions(["--label", "team=ci"], { allowOptions: ["--label"] }), [
      "--label=team=ci",
    ]);
  });

  it("a job container refuses what its steps could not honour; --init and --read-only it has already", () => {
    for (const [text, why] of [
      ["--user 0", /uid 1001/],
      ["-u root", /uid 1001/],
      ["--workdir /src", /PID 1/],
      ["--entrypoint /bin/sh", /PID 1/],
      ["-t", /terminal/],
    ] as const) {
      refused(() => checkOptions(splitWords(text), {}, "container"), why);
      refused(() => checkContainer({ image: "x", env: {}, options: splitWords(text), volumes: [] }), why);
      // The same options are fine on a service.
      assert.equal(checkOptions(splitWords(text), {}, "service 'db'").length, 1);
    }
    assert.deepEqual(checkOptions(splitWords("--init --read-only -h box -e A=1 --health-cmd true")), [
      "--init",
      "--read-only",
      "--hostname=box",
      "--env=A=1",
      "--health-cmd=true",
    ]);
  });

  it("the provisioner's rendering of the same table: variables apart, flags as checked", () => {
    const job = podmanOptions(
      splitWords(`--init --read-only -h box -e A=a=b -e "B=x y" --cap-drop ALL`),
      "job",
    );
    assert.deepEqual(job, { args: ["--hostname=box", "--cap-drop=ALL"], env: { A: "a=b", B: "x y" } });
    const svc = podmanOptions(splitWords("--init --read-only -u 1000 --memory=64m"), "service", "service", [
      "--memory",
    ]);
    assert.deepEqual(svc, { args: ["--init", "--read-only", "--user=1000", "--memory=64m"], env: {} });
    refused(() => podmanOptions(["--user=0"], "job"), /uid 1001/);
    refused(() => podmanOptions(["--name=x"], "service"), /--name/);
    refused(() => podmanOptions(["--frobnicate"], "service"), /unknown/);
    // The provisioner too refuses what the pool did not allow (a spec that skipped the node's check).
    refused(() => podmanOptions(["--privileged"], "service"), /--privileged/);
    refused(() => podmanOptions(["--memory=1g"], "job"), /--memory/);
    // Every option of the table, once allowed, is rendered for each container as the table says,
    // or refused: none is accepted and then lost.
    const sample = (name: string): string =>
      name === "--env" ? "A=1" : name === "--tmpfs" ? "/t" : name === "--label" ? "team=x" : "v";
    for (const [name, def] of Object.entries(OPTIONS)) {
      const word = def.value ? `${name}=${sample(name)}` : name;
      for (const t of ["job", "service"] as const) {
        const use = def[t];
        if (def.never || typeof use === "object") {
          refused(() => podmanOptions([word], t, t, [name]));
          continue;
        }
        const out = podmanOptions([word], t, t, [name]);
        if (use === "flag") assert.deepEqual(out, { args: [word], env: {} }, `${name} ${t}`);
        else if (use === "env") assert.deepEqual(out, { args: [], env: { A: "1" } }, `${name} ${t}`);
        else assert.deepEqual(out, { args: [], env: {} }, `${name} ${t}`);
      }
    }
  });

  it("option names are matched exactly: no prefix abbreviations, no case games", () => {
    refused(() => checkOptions(["--priv"]), /unknown/);
    refused(() => checkOptions(["--PRIVILEGED"]), /unknown/);
    refused(() => checkOptions(["--health-cmd-x=1"]), /unknown/);
    refused(() => checkOptions(["--__proto__"]), /unknown/);
    refused(() => checkOptions(["--constructor=1"]), /unknown/);
  });
});

describe("volumes", () => {
  it("workspace paths, named and anonymous volumes", () => {
    assert.deepEqual(parseVolume("./data:/data"), { source: "./data", target: "/data", readOnly: false });
    assert.deepEqual(parseVolume("sub/dir/:/d:ro"), { source: "./sub/dir", target: "/d", readOnly: true });
    assert.deepEqual(parseVolume(".:/src:rw"), { source: ".", target: "/src", readOnly: false });
    assert.deepEqual(parseVolume("cache:/var/cache"), {
      source: "cache",
      target: "/var/cache",
      readOnly: false,
    });
    assert.deepEqual(parseVolume("/scratch"), { source: "", target: "/scratch", readOnly: false });
  });

  it("refuses leaving the workspace, bad targets and modes; host paths unless the pool allows --volume", () => {
    refused(() => parseVolume("../x:/x"), /inside the workspace/);
    refused(() => parseVolume("./a/../../x:/x"), /inside the workspace/);
    refused(() => parseVolume("./a:relative"), /absolute/);
    refused(() => parseVolume("./a:/x/../.."), /absolute/);
    refused(() => parseVolume("./a:/"), /absolute/);
    refused(() => parseVolume("./a:/x:z"), /mode/);
    refused(() => parseVolume("./a:/x:ro:extra"), /not valid/);
    refused(() => parseVolume("./a,b:/x"), /not valid/);
    const host = parseVolume("/var/run/docker.sock:/var/run/docker.sock");
    refused(() => checkVolume(host, new Set()), /host paths/);
    assert.deepEqual(checkVolume(host, new Set(["--volume"])), host);
  });
});

describe("planContainer / planServices", () => {
  const ctx = {
    matrix: { img: "debian:12", empty: "" },
    github: {},
    needs: {},
    strategy: {},
    vars: { V: "x" },
    inputs: {},
  };

  it("a string is the image; an empty image means no container", () => {
    assert.deepEqual(planContainer("node:20", ctx, "container"), {
      image: "node:20",
      env: {},
      options: [],
      volumes: [],
    });
    assert.deepEqual(planContainer("${{ matrix.img }}", ctx, "container")?.image, "debian:12");
    assert.equal(planContainer("${{ matrix.empty }}", ctx, "container"), undefined);
    assert.equal(planContainer({ image: "" }, ctx, "container"), undefined);
    assert.equal(planContainer("docker://node:20", ctx, "container")?.image, "node:20");
    assert.equal(planContainer({ image: "docker://" }, ctx, "container"), undefined);
  });

  it("a mapping: evaluated image/options/volumes/ports; env and credentials kept as written", () => {
    const spec = planContainer(
      {
        image: "${{ matrix.img }}",
        options: "--health-cmd 'pg_isready' -e A=${{ vars.V }}",
        volumes: ["./data:/data", "named:/n:ro"],
        ports: [5432, "8080:80/tcp"],
        env: { PASSWORD: "${{ secrets.PG }}", PORT: 5432, ON: true },
        credentials: { username: "u", password: "${{ secrets.REG }}" },
      },
      ctx,
      "container",
    );
    assert.deepEqual(spec, {
      image: "debian:12",
      env: { PASSWORD: "${{ secrets.PG }}", PORT: "5432", ON: "true" },
      options: ["--health-cmd", "pg_isready", "-e", "A=x"],
      volumes: [
        { source: "./data", target: "/data", readOnly: false },
        { source: "named", target: "/n", readOnly: true },
      ],
      ports: ["5432", "8080:80/tcp"],
      credentials: { username: "u", password: "${{ secrets.REG }}" },
    });
  });

  it("a service's entrypoint and command (split into words, no shell), evaluated", () => {
    const spec = planContainer(
      {
        image: "redis",
        entrypoint: "/usr/local/bin/${{ matrix.img }}",
        command: "redis-server --port '6380' --save \"\" ${{ vars.V }}",
      },
      ctx,
      "service 'cache'",
    );
    assert.equal(spec?.entrypoint, "/usr/local/bin/debian:12");
    assert.deepEqual(spec?.command, ["redis-server", "--port", "6380", "--save", "", "x"]);
    assert.equal(planContainer({ image: "r", command: "", entrypoint: "" }, ctx, "s")?.command, undefined);
    assert.throws(() => planContainer({ image: "r", command: "${{ secrets.X }}" }, ctx, "s"));
  });

  it("image and options cannot read secrets (GitHub's context availability)", () => {
    assert.throws(() => planContainer({ image: "${{ secrets.X }}" }, ctx, "container"));
    assert.throws(() => planContainer({ image: "a", options: "${{ secrets.X }}" }, ctx, "container"));
  });

  it("refuses bad ports and service names that are not DNS labels", () => {
    refused(() => planContainer({ image: "a", ports: ["0.0.0.0:80:80"] }, ctx, "service 'db'"), /port/);
    refused(() => planContainer({ image: "a", ports: ["70000"] }, ctx, "service 'db'"), /port/);
    refused(() => planContainer({ image: "a", ports: ["5353:53/udp"] }, ctx, "service 'db'"), /UDP/);
    refused(() => planContainer({ image: "a", ports: ["3129:80"] }, ctx, "service 'db'"), /Airlock's own/);
    for (const name of ["my_db", "-db", "db-", "a".repeat(64), "d b", "db.x"])
      refused(() => planServices({ [name]: { image: "a" } }, ctx), /DNS label/);
    assert.deepEqual(
      Object.keys(planServices({ db: "postgres", "redis-1": { image: "r" }, none: { image: "" } }, ctx)!),
      ["db", "redis-1"],
    );
    assert.equal(planServices({ none: { image: "${{ matrix.empty }}" } }, ctx), undefined);
  });

  it("checkContainer applies the pool's policy to a planned spec", () => {
    const spec = planContainer(
      { image: "a", options: "--cap-add X", volumes: ["/etc:/etc"] },
      ctx,
      "container",
    )!;
    refused(() => checkContainer(spec), /--cap-add/);
    refused(() => checkContainer(spec, { allowOptions: ["--cap-add"] }), /host paths/);
    assert.deepEqual(checkContainer(spec, { allowOptions: ["--cap-add", "--volume"] }).options, [
      "--cap-add=X",
    ]);
  });
});

describe("Docker action paths", () => {
  it("rewrites machine paths to GitHub's container paths, most specific first", () => {
    const mounts = dockerActionMounts({ workspace: "/w/ws", temp: "/w/tmp" });
    assert.equal(toContainerPath("/w/ws", mounts), "/github/workspace");
    assert.equal(toContainerPath("/w/ws/a/b", mounts), "/github/workspace/a/b");
    assert.equal(
      toContainerPath("/w/tmp/_runner_file_commands/set_env_1", mounts),
      "/github/file_commands/set_env_1",
    );
    assert.equal(
      toContainerPath("/w/tmp/_github_workflow/event.json", mounts),
      "/github/workflow/event.json",
    );
    assert.equal(toContainerPath("/w/tmp/_github_home", mounts), "/github/home");
    assert.equal(toContainerPath("/w/tmp/x", mounts), "/github/runner_temp/x");
    assert.equal(toContainerPath("/w/wsx", mounts), "/w/wsx");
    assert.equal(toContainerPath("value", mounts), "value");
  });
});
