// Worker-thread entry of off-loop.ts: parses workflow and action files on request, so an expensive
// file (within the bounds of guard.ts, or one that finds a way around them) never blocks the
// event loop of the orchestrator or the agent. Requests are handled one at a time.
import { parentPort } from "node:worker_threads";
import { parseActionManifest } from "./action-manifest.js";
import { parseWorkflow } from "./parse.js";

export interface ParseRequest {
  id: number;
  kind: "workflow" | "action";
  file: string;
  content: string;
}

parentPort?.on("message", (req: ParseRequest) => {
  try {
    const result =
      req.kind === "workflow"
        ? parseWorkflow(req.file, req.content)
        : parseActionManifest(req.file, req.content);
    parentPort!.postMessage({ id: req.id, result });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
