// The escape and abuse suite (issue 6, item 6): every case of cases.ts runs as a real job (a
// workflow in a real git repository, triggered through the orchestrator, run by a separate
// `airlock agent` process on a real machine of each provisioner of provisioners.ts, on the
// debian-12 image). For every case: the attempt fails or is contained and the job says so; the
// job running beside it and the next job on the same node succeed; nothing of the run outlives
// it; no secret of the node appears in any log; no host listener was reached; the agent lives.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../../src/images/index.js";
import { CASES } from "./cases.js";
import { Hostile, HOSTILE_INPUTS } from "./hostile-inputs.js";
import { startEscapeNode, type EscapeNode, type Targets } from "./node.js";
import { PROVISIONERS } from "./provisioners.js";
import { runCase, workLine, type CaseOutcome, type JobOutcome } from "./run-case.js";

/** The node's default image (scripts/test.sh builds it before the suite). */
function defaultImage(): { rootfs: string } {
  const img = new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE);
  if (!img)
    throw new Error(
      `no ${DEFAULT_IMAGE} image in ${loadOptions().imagesDir}: run airlock image build ${DEFAULT_IMAGE}`,
    );
  return img;
}

/** The node's secrets: none may appear in any job's log. */
function nodeSecrets(t: Targets): string[] {
  return [
    t.agentToken,
    readFileSync(t.credentialFile, "utf8").trim(),
    t.agentEnvCanary,
    t.dataCanary,
    t.pgPassword,
    t.victimSecret,
    t.agentCanary,
    t.tcpCanary,
    t.unixCanary,
    t.hostShadowLine,
  ];
}

/** Reaching each target from the host as the machines' host user, outside any machine: what a job
 * would get if its machine did not stand in the way. Proves the cases' checks can fail. */
async function controls(t: Targets): Promise<string[]> {
  const asRoot = process.getuid?.() === 0;
  // Asynchronous: the listeners live in this process.
  const run = (argv: string[]): Promise<string> =>
    new Promise((resolve) => {
      execFile(
        argv[0] as string,
        argv.slice(1),
        {
          encoding: "utf8",
          timeout: 20_000,
          cwd: "/",
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        },
        (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
    });
  const connect = async (...args: string[]) =>
    (await run(["python3", "-c", CONNECT, ...args])).includes(args[0] === "tcp" ? t.tcpCanary : t.unixCanary);
  const problems: string[] = [];
  const expect = (what: string, ok: boolean) => ok || problems.push(`control failed: ${what}`);
  expect("read the orchestrator's log", (await run(["cat", t.dataCanaryFile])).includes(t.dataCanary));
  expect("read the agent's folder", (await run(["cat", t.agentCanaryFile])).includes(t.agentCanary));
  const mirror = await run([
    "git",
    "-c",
    "safe.directory=*",
    `--git-dir=${t.victimMirror}`,
    "show",
    `${t.victimCommit}:secret.txt`,
  ]);
  expect(`read the victim's mirror: ${mirror.slice(0, 200)}`, mirror.includes(t.victimSecret));
  expect("connect to the TCP listener on 127.0.0.1", await connect("tcp", "127.0.0.1", String(t.tcpPort)));
  expect(
    "connect to the TCP listener on the host's address",
    await connect("tcp", t.hostAddress, String(t.tcpPort)),
  );
  for (const p of t.unixPaths) expect(`connect to ${p}`, await connect("unix", p));
  expect(`connect to @${t.abstractName}`, await connect("abstract", t.abstractName));
  return problems;
}

// Node pads abstract socket names with NULs to the whole sun_path.
const CONNECT = `import socket, sys
k, a = sys.argv[1], sys.argv[2]
s = socket.create_connection((a, int(sys.argv[3])), timeout=5) if k == "tcp" else socket.socket(socket.AF_UNIX)
if k != "tcp": s.connect(("\\0" + a).ljust(108, "\\0") if k == "abstract" else a)
print(s.recv(200).decode())`;

function jobProblems(role: string, j: JobOutcome): string[] {
  const p: string[] = [];
  if (j.conclusion !== "success") p.push(`the ${role} job concluded ${j.conclusion} (state ${j.state})`);
  if (j.attempt !== 1) p.push(`the ${role} job needed attempt ${j.attempt} (its first was lost)`);
  if (!j.log.includes(workLine(role)))
    p.push(`the ${role} job did not do its work; its log:\n${tail(j.log)}`);
  return p;
}

function tail(log: string, n = 1500): string {
  return log.length > n ? `…${log.slice(-n)}` : log;
}

/** AIRLOCK_ESCAPE_CASES=id,id,…: only these cases and no webhook inputs (a quicker subset, e.g. on VMs under TCG). */
const onlyCases = process.env.AIRLOCK_ESCAPE_CASES
  ? process.env.AIRLOCK_ESCAPE_CASES.split(",").filter((c) => c !== "")
  : undefined;

for (const prov of PROVISIONERS) {
  const unavailable = prov.unavailable();
  describe(`escape and abuse suite: ${prov.name} provisioner`, { skip: unavailable, concurrency: 4 }, () => {
    let n: EscapeNode;
    let controlProblems: string[] = [];
    let baseline = { tcp: 0, unix: 0, abstract: 0 };
    const accepted = () => ({
      tcp: n.listeners.tcp.accepted(),
      unix: n.listeners.unix.reduce((a, l) => a + l.accepted(), 0),
      abstract: n.listeners.abstract.accepted(),
    });

    before(async () => {
      n = await startEscapeNode(prov, defaultImage().rootfs);
      controlProblems = await controls(n.targets);
      baseline = accepted();
    });
    after(async () => {
      await n?.stop();
    });

    it("controls: outside a machine, the machines' host user reaches every target", () => {
      assert.deepEqual(controlProblems, []);
    });

    for (const c of CASES) {
      const skipCase =
        prov.notApplicable?.[c.id] ??
        (onlyCases !== undefined && !onlyCases.includes(c.id) && "not in AIRLOCK_ESCAPE_CASES");
      it(`${c.id}: ${c.attack}`, { skip: skipCase }, async (ctx) => {
        const o: CaseOutcome = await runCase(n, c);
        // What the attack got, for the record (node --test prints diagnostics with the result).
        const seen = o.attack.log
          .split("\n")
          .filter((l) => /BLOCKED: |ESCAPED: |limit .* exceeded|log truncated|daemons running/.test(l))
          .map((l) => l.replace(/^[\s|]+/, "").slice(0, 200));
        ctx.diagnostic(
          `attack ${o.attack.conclusion}; beside ${o.beside.conclusion}; next ${o.next.conclusion}`,
        );
        for (const l of seen.slice(0, 40)) ctx.diagnostic(l);
        const t = n.targets;
        const problems: string[] = [];
        const allowed = [c.expect.attack].flat();
        if (!allowed.includes(o.attack.conclusion as never)) {
          problems.push(`the attack job concluded ${o.attack.conclusion}, expected ${allowed.join(" or ")}`);
        }
        for (const r of c.expect.report) {
          if (!r.test(o.attack.log)) problems.push(`the attack job's log does not report ${r}`);
        }
        for (const line of o.attack.log.split("\n").filter((l) => l.includes("ESCAPED: "))) {
          problems.push(line.trim().slice(0, 300));
        }
        problems.push(...jobProblems("beside", o.beside), ...jobProblems("next", o.next));
        for (const s of [
          ...nodeSecrets(t),
          ...(c.expect.secrets?.(t, o.mark) ?? []),
          `BESIDE-SECRET-${o.mark}`,
        ]) {
          if (s && o.attack.log.includes(s))
            problems.push(`a secret of the node reached the attack's log: ${s.slice(0, 40)}`);
        }
        for (const s of nodeSecrets(t)) {
          for (const j of [o.beside, o.next])
            if (s && j.log.includes(s)) problems.push(`a secret reached job ${j.id}'s log`);
        }
        problems.push(...(c.expect.host?.(t, o.mark) ?? []));
        if (o.survivors.length > 0) problems.push(`processes outlived the run:\n${o.survivors.join("\n")}`);
        const now = accepted();
        for (const k of ["tcp", "unix", "abstract"] as const) {
          if (now[k] !== baseline[k]) problems.push(`a job connected to the host's ${k} listener`);
        }
        if (!n.agentAlive()) problems.push(`the agent died:\n${tail(n.agentLog())}`);
        assert.deepEqual(problems, [], `attack log:\n${tail(o.attack.log, 4000)}`);
      });
    }

    for (const c of HOSTILE_INPUTS) {
      it(
        `webhook ${c.id}: ${c.what}`,
        { skip: onlyCases !== undefined && "AIRLOCK_ESCAPE_CASES is set" },
        async () => {
          const h = new Hostile(n);
          const problems = await c.run(h);
          problems.push(...h.traces());
          h.remove();
          if (!n.agentAlive()) problems.push(`the agent died:\n${tail(n.agentLog())}`);
          assert.deepEqual(problems, []);
        },
      );
    }
  });
}
