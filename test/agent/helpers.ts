// Agent test helpers: agents over the fake provisioner with a trivial workspace source, assign
// messages built from workflow YAML, a polling waitFor (no timing asserts), and a scan of /proc for
// leftover job processes carrying a test's marker.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import {
  createAgent,
  fixedImages,
  memoryCredentialStore,
  type Agent,
  type AgentLogger,
  type AgentOptions,
} from "../../src/agent/index.js";
import { DEFAULT_IMAGE } from "../../src/images/index.js";
import { AirlockError, ErrorCode } from "../../src/errors/index.js";
import { createFakeProvisioner } from "../../src/provisioners/index.js";
import type { ActionLoader, WorkspaceSource } from "../../src/runner/index.js";
import type { ServerMessage } from "../../src/protocol/agent.js";
import { jobFromWorkflow } from "../runner/helpers.js";

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  limitMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const trivialSource: WorkspaceSource = {
  async checkout(machine, opts) {
    await machine.writeFile(path.posix.join(opts.path, "README"), "hello\n");
  },
};

export const noActions: ActionLoader = {
  load(uses) {
    return Promise.reject(new AirlockError(ErrorCode.ACTION_NOT_FOUND, `no actions in agent tests: ${uses}`));
  },
};

export interface LogRecord {
  level: string;
  obj: object;
  msg: string | undefined;
}

export function recordingLogger(): AgentLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj, msg });
    };
  return { records, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A fresh temp folder, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestAgent {
  agent: Agent;
  machinesDir: string;
}

export function testAgent(serverUrl: string, dataDir: string, extra: Partial<AgentOptions> = {}): TestAgent {
  const machinesDir = path.join(dataDir, "..", `machines-${randomBytes(4).toString("hex")}`);
  const agent = createAgent({
    serverUrl,
    credentials: memoryCredentialStore("good-token"),
    dataDir,
    provisioners: { fake: createFakeProvisioner({ baseDir: machinesDir }) },
    actions: noActions,
    source: trivialSource,
    labels: ["linux", "test"],
    // The fake provisioner runs host processes: the image is only a name here.
    images: fixedImages([DEFAULT_IMAGE]),
    backoff: { minMs: 20, maxMs: 200 },
    ...extra,
  });
  return { agent, machinesDir };
}

/** Machine folders that still exist under a fake provisioner's base folder. */
export function liveMachines(machinesDir: string): string[] {
  try {
    return readdirSync(machinesDir).filter((n) => n.startsWith("airlock-fake-"));
  } catch {
    return [];
  }
}

/** An `assign` for a one-job workflow given as its `steps:` YAML block. */
export function assignMsg(
  jobId: number,
  stepsYaml: string,
  opts: { attempt?: number; provisioner?: string; egressAllow?: string[] } = {},
): Extract<ServerMessage, { type: "assign" }> {
  const yaml = `on: push\njobs:\n  build:\n    runs-on: linux\n    steps:\n${stepsYaml}`;
  const job = jobFromWorkflow(".github/workflows/ci.yml", yaml);
  return {
    type: "assign",
    jobId,
    attempt: opts.attempt ?? 0,
    job: job as unknown as Record<string, unknown>,
    machine: {
      provisioner: opts.provisioner ?? "fake",
      image: DEFAULT_IMAGE,
      cpus: 1,
      memoryMb: 512,
      diskMb: 1024,
      egressAllow: opts.egressAllow ?? [],
    },
    leaseMs: 30_000,
  };
}

/** Pids of host processes whose environment holds `marker` (the job's processes). */
export function markedProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").includes(marker)) pids.push(Number(name));
    } catch {
      // gone already, or not ours to read
    }
  }
  return pids;
}

export function marker(): string {
  return `AIRLOCK_AGENT_TEST_${randomBytes(6).toString("hex")}`;
}

/** The text of every log event in a list of received agent messages. */
export function logTexts(msgs: Array<{ type: string; event?: Record<string, unknown> }>): string[] {
  return msgs
    .filter((m) => m.type === "event" && m.event?.type === "log" && m.event.kind === "line")
    .map((m) => String(m.event!.text));
}
