// Public face of the job runner: runJob executes one resolved job on a machine, GitHub
// Actions-faithful, and reports RunnerEvents. Other modules import only from here.
export { runJob } from "./job.js";
export {
  eventSource,
  eventStyle,
  eventText,
  formatEvent,
  type ChunkStyle,
  type LineStyle,
  type StyledLine,
} from "./format.js";
export { runJobOnNewMachine, type MachineServices, type OnMachineOptions } from "./on-machine.js";
export type * from "./types.js";
export { cleanDeep, cleanText, MAX_LINE_CHARS } from "./text.js";
export { parseCommand, type WorkflowCommand } from "./commands.js";
export { parseKeyValueFile, parsePathFile, EnvFileError } from "./envfiles.js";
export { shellTemplate, type ShellTemplate } from "./shell.js";
export { DOCKER_UNSUPPORTED } from "./actions.js";
export { boundedSummaries, SUMMARIES_MAX_BYTES, SUMMARY_MAX_BYTES } from "./summaries.js";
