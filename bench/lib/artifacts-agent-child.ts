// The agent of bench:artifacts in a process of its own, as `airlock agent` runs on a node: its
// job services and results proxy carry every byte of the artifact and cache traffic, and in the
// orchestrator's process they would share one event loop with the service that stores them.
// Receives an ArtifactsAgentSpec over IPC, starts the agent, answers "ready", stops on "stop".
import "./hook.js";

const { startArtifactsAgent } = await import("./artifacts-agent.js");
type Spec = Parameters<typeof startArtifactsAgent>[0];

let agent: Awaited<ReturnType<typeof startArtifactsAgent>> | undefined;
const stop = (): void => void (agent?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
process.on("message", (msg: unknown) => {
  if (msg === "stop") return stop();
  void startArtifactsAgent(msg as Spec).then(
    (a) => {
      agent = a;
      process.send?.("ready");
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
// The parent went away without saying stop: do not linger.
process.on("disconnect", stop);
