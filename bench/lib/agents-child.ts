// The child process of forkAgents(): receives an AgentsSpec over IPC, starts the agents, answers
// "ready", and on "stop" stops them and exits.
import "./hook.js";

const { hostAgents } = await import("./agents.js");
type Spec = Parameters<typeof hostAgents>[0];

let host: Awaited<ReturnType<typeof hostAgents>> | undefined;
process.on("message", (msg: unknown) => {
  if (msg === "stop") {
    void (host?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  void hostAgents(msg as Spec).then(
    (h) => {
      host = h;
      process.send?.("ready");
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
// The parent went away without saying stop: do not linger.
process.on("disconnect", () => void (host?.stop() ?? Promise.resolve()).finally(() => process.exit(0)));
