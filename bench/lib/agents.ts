// The simulated agents of bench:dispatch: real createAgent instances (real WebSocket connections)
// with the fake provisioner and a workspace source that does nothing (trivial jobs need no code).
// By default they live in a child process, as agents live on other machines: their CPU work
// (outbox writes, machine folders, the runner) does not stall the orchestrator's event loop; only
// the two cores of this machine are shared. `inProcess` hosts them in the orchestrator's process.
import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAgent, fixedImages, memoryCredentialStore, type Agent } from "../../src/agent/index.js";
import { DEFAULT_IMAGE } from "../../src/images/index.js";
import { createActionLoader } from "../../src/actions/index.js";
import { createFakeProvisioner } from "../../src/provisioners/index.js";
import type { WorkspaceSource } from "../../src/runner/index.js";

export interface AgentsSpec {
  serverUrl: string;
  /** One registration token per agent (each exchanges its own and keeps the credential in memory). */
  tokens: string[];
  /** Each agent gets dataDir/agent-<i>; fake machines are made in dataDir/machines. */
  dataDir: string;
  /** Machines (of the default flavour: 1 CPU, 2 GiB, 4 GiB disk) each agent can hold at once. */
  slots: number;
}

export interface AgentsHost {
  stop(): Promise<void>;
}

const noSource: WorkspaceSource = { checkout: () => Promise.resolve() };

/** Starts the agents here; resolves once every one has been started (not yet connected). */
export async function hostAgents(spec: AgentsSpec): Promise<AgentsHost> {
  const actions = createActionLoader({
    actionsUrl: "file:///nonexistent",
    cacheDir: join(spec.dataDir, "actions"),
  });
  const provisioner = createFakeProvisioner({ baseDir: join(spec.dataDir, "machines") });
  const agents: Agent[] = spec.tokens.map((token, i) =>
    createAgent({
      serverUrl: spec.serverUrl,
      credentials: memoryCredentialStore(),
      registrationToken: token,
      dataDir: join(spec.dataDir, `agent-${i}`),
      provisioners: { sandbox: provisioner },
      actions,
      source: noSource,
      images: fixedImages([DEFAULT_IMAGE]),
      capacity: { cpus: spec.slots, memoryMb: spec.slots * 2048, diskMb: spec.slots * 4096 },
    }),
  );
  await Promise.all(agents.map((a) => a.start()));
  return { stop: async () => void (await Promise.all(agents.map((a) => a.stop()))) };
}

/** Starts the agents in a child process (see agents-child.ts); stop() ends it. */
export async function forkAgents(spec: AgentsSpec): Promise<AgentsHost> {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const child = fork(fileURLToPath(new URL(`./agents-child.${ext}`, import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) =>
      reject(new Error(`the agents' process exited (${code}) before it was ready`)),
    );
    child.send(spec);
  });
  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.send("stop");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}
