// Runs one case of the table as real jobs: a repository holding the attack, registered with the
// orchestrator, triggered through the API, and run by the agent on its provisioner. Each run has
// three jobs on the same node: `attack`; `beside`, held running until the attack has started (the
// test releases both through marker files in their machine folders, no sleeps); and `next`,
// which starts after the attack ends. Afterwards the host is searched for any process that still
// carries the case's mark (in its environment or command line).
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync, type Dirent } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EscapeCase } from "./cases.js";
import { until, type EscapeNode } from "./node.js";

const scripts = join(dirname(fileURLToPath(import.meta.url)), "scripts");
const script = (name: string): string => readFileSync(join(scripts, name), "utf8");

/** The line an ordinary job prints when all went well (scripts/work.sh). */
export function workLine(role: string): string {
  return `work-ok ${role} ${createHash("sha256").update("airlock").digest("hex")} 499500 8388608`;
}

export interface JobOutcome {
  id: number;
  state: string;
  conclusion: string | null;
  attempt: number;
  log: string;
}

export interface CaseOutcome {
  mark: string;
  runId: number;
  attack: JobOutcome;
  beside: JobOutcome;
  next: JobOutcome;
  /** Host processes still carrying the mark once the run completed. */
  survivors: string[];
}

function workflow(c: EscapeCase, mark: string, env: Record<string, string>, gate: boolean): string {
  const gateEnv = gate ? "" : `\n      ESCAPE_GATE: "off"`;
  const envLines = Object.entries({ ESCAPE_MARK: mark, ...env, ...(gate ? {} : { ESCAPE_GATE: "off" }) })
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
    .join("\n");
  return `name: escape ${c.id}
on: [push, workflow_dispatch]
jobs:
  attack:
    runs-on: ubuntu-latest
    timeout-minutes: 4
    env:
${envLines}
    steps:
      - name: wait until the job beside runs
        run: bash .escape/gate.sh attack
      - name: ${JSON.stringify(c.attack)}
        run: bash .escape/attack.sh
  beside:
    runs-on: ubuntu-latest
    env:
      ESCAPE_MARK: ${JSON.stringify(mark)}${gateEnv}
    steps:
      - run: bash .escape/gate.sh beside
      - run: bash .escape/work.sh beside
  next:
    needs: attack
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: bash .escape/work.sh next
`;
}

export async function runCase(n: EscapeNode, c: EscapeCase): Promise<CaseOutcome> {
  const mark = `escape-${c.id}-${randomBytes(6).toString("hex")}`;
  const t = n.targets;
  const env: Record<string, string> = {
    AGENT_PID: String(t.agentPid),
    DATA_DIR: t.orchestratorDataDir,
    AGENT_DIR: t.agentDir,
    MACHINES_DIR: t.machinesDir,
    HOST_PORT: String(t.tcpPort),
    API_PORT: String(t.apiPort),
  };
  const repo = n.newRepo({
    ".github/workflows/escape.yml": workflow(c, mark, env, n.prov.hostFolders !== false),
    ".escape/probe.sh": script("probe.sh"),
    ".escape/gate.sh": script("gate.sh"),
    ".escape/work.sh": script("work.sh"),
    ".escape/connect.py": script("connect.py"),
    ".escape/syscall.py": script("syscall.py"),
    ".escape/membomb.py": script("membomb.py"),
    ".escape/forkbomb.c": script("forkbomb.c"),
    ".escape/attack.sh": `set -u\nsource .escape/probe.sh\n${c.script(t, mark)}\n`,
  });
  const { id } = await n.addRepository(`escape/${c.id}`, repo.dir);
  const trig = await n.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${id}/runs`, {});
  const runId = trig.body.runs?.[0]?.id;
  if (trig.status !== 201 || runId === undefined) throw new Error(`trigger: ${trig.status} ${trig.text}`);

  // Both jobs up (each in its own machine), then the attack goes first and the job beside after.
  const finished = n.waitRun(runId);
  let done = false;
  void finished.finally(() => (done = true)).catch(() => undefined);
  if (n.prov.hostFolders !== false) {
    const attackWs = await machineWith(n, `.escape-${mark}-attack`, () => done);
    const besideWs = await machineWith(n, `.escape-${mark}-beside`, () => done);
    if (attackWs) writeFileSync(join(attackWs, ".escape-go"), "");
    if (besideWs) writeFileSync(join(besideWs, ".escape-go"), "");
  }
  const run = await finished;

  const job = async (name: string): Promise<JobOutcome> => {
    const j = run.jobs.find((x) => x.name === name);
    if (!j) throw new Error(`run ${runId} has no job ${name}: ${JSON.stringify(run)}`);
    return {
      id: j.id,
      state: j.state,
      conclusion: j.conclusion,
      attempt: j.attempt,
      log: await n.jobLog(j.id),
    };
  };
  return {
    mark,
    runId,
    attack: await job("attack"),
    beside: await job("beside"),
    next: await job("next"),
    survivors: processesWith(mark),
  };
}

/** The workspace (host path) of the machine whose job wrote `marker`; undefined if the run ended first. */
async function machineWith(n: EscapeNode, marker: string, ended: () => boolean): Promise<string | undefined> {
  const find = (): string | null | undefined => {
    if (ended()) return null;
    return workspaces(n.targets.machinesDir).find((ws) => existsSync(join(ws, marker)));
  };
  return (await until(() => Promise.resolve(find()), `a machine with ${marker}`)) ?? undefined;
}

/** Every `workspace` folder of a machine under the provisioner's folder (its layout is the
 * backend's business: `<id>/workspace`, or `disks/<pool>/<n>/workspace` on a per-machine disk;
 * the container provisioner's `containers/<agent>/<id>/files/workspace`). */
function workspaces(dir: string, depth = 5): string[] {
  if (depth === 0) return [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory())
    .flatMap((e) =>
      e.name === "workspace" ? [join(dir, e.name)] : workspaces(join(dir, e.name), depth - 1),
    );
}

/** Host processes whose environment or command line holds `mark` (read as root, or our own uid). */
export function processesWith(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    for (const f of ["environ", "cmdline"]) {
      try {
        if (readFileSync(`/proc/${pid}/${f}`).includes(mark)) {
          const cmd = readFileSync(`/proc/${pid}/cmdline`).toString().replaceAll("\0", " ").trim();
          found.push(`${pid}: ${cmd}`);
          break;
        }
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return found;
}
