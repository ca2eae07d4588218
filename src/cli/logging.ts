// The log format of `airlock server` and `airlock agent`: pretty, human-readable lines (pino-pretty)
// when the log goes to a terminal, JSON lines (one object per line, for journald, Loki, jq) when it
// does not — or whatever `--log-format json|pretty` or AIRLOCK_LOG_FORMAT asks; the flag wins over
// the variable, and "auto" (the default) decides by the terminal. Pretty-printing runs in-process
// and synchronously (no worker thread): a line is written before the process can exit.
import { pino, type Logger, type LoggerOptions } from "pino";
import pretty from "pino-pretty";
import { AirlockError, ErrorCode } from "../errors/index.js";

export type LogFormat = "json" | "pretty";
export const LOG_FORMATS = ["json", "pretty", "auto"] as const;

/** `--log-format` (wins), then AIRLOCK_LOG_FORMAT, then: pretty exactly when the log is a terminal. */
export function chooseLogFormat(o: {
  flag?: string | undefined;
  setting: string;
  isTTY: boolean;
}): LogFormat {
  const asked = o.flag ?? o.setting;
  if (!(LOG_FORMATS as readonly string[]).includes(asked))
    throw new AirlockError(ErrorCode.USAGE, `--log-format must be json, pretty or auto, got "${asked}"`);
  if (asked === "json" || asked === "pretty") return asked;
  return o.isTTY ? "pretty" : "json";
}

/** A pino logger writing to file descriptor `fd` (1: stdout, 2: stderr) in `format`. */
export function formatLogger(options: LoggerOptions, format: LogFormat, fd: 1 | 2): Logger {
  if (format === "json") return pino(options, pino.destination({ fd, sync: true }));
  const stream = pretty({
    destination: fd,
    sync: true,
    colorize: (fd === 1 ? process.stdout : process.stderr).isTTY === true && !process.env.NO_COLOR,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname",
    singleLine: true,
  });
  return pino(options, stream);
}
