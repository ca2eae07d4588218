// The one agent of bench:artifacts: a real agent with the bubblewrap sandbox provisioner, git
// checkouts and the host's images, holding one machine at a time (the figures are one job's, not a
// share of the disk). forkArtifactsAgent runs it in a child process (artifacts-agent-child.ts).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createAgent, memoryCredentialStore, type Agent } from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { ImageStore } from "../../src/images/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { createSandboxProvisioner } from "../../src/provisioners/index.js";

export interface ArtifactsAgentSpec {
  serverUrl: string;
  registrationToken: string;
  dataDir: string;
  actionsDir: string;
  mib: number;
}

export async function startArtifactsAgent(spec: ArtifactsAgentSpec): Promise<Agent> {
  const agent = createAgent({
    serverUrl: spec.serverUrl,
    credentials: memoryCredentialStore(),
    registrationToken: spec.registrationToken,
    dataDir: spec.dataDir,
    provisioners: { sandbox: createSandboxProvisioner() },
    actions: createActionLoader({ actionsUrl: "file:///nonexistent", cacheDir: spec.actionsDir }),
    source: createGitWorkspaceSource(),
    images: new ImageStore(loadOptions().imagesDir),
    capacity: { cpus: 2, memoryMb: 8192, diskMb: spec.mib * 4 + 2048 },
    backoff: { minMs: 20, maxMs: 200 },
  });
  await agent.start();
  return agent;
}

/** The agent in a child process; stop() ends it. */
export async function forkArtifactsAgent(spec: ArtifactsAgentSpec): Promise<{ stop(): Promise<void> }> {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  const child = fork(fileURLToPath(new URL(`./artifacts-agent-child.${ext}`, import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) =>
      reject(new Error(`the agent's process exited (${code}) before it was ready`)),
    );
    child.send(spec);
  });
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.send("stop");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
