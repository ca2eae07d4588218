// The logger the agent writes to: the subset of pino it uses, so the CLI passes a pino logger and
// tests pass nothing (silent) or a recorder.
export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
