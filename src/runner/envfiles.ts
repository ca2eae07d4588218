// Parsing of the step environment files (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, GITHUB_PATH),
// following actions/runner's FileCommandManager: `NAME=value` lines and `NAME<<DELIM` heredocs;
// only "\n" separates lines (a "\r" stays part of the value, as on the Linux runner); a heredoc
// without its closing delimiter, an empty name or an empty delimiter is an error that fails the step.
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface KeyValue {
  name: string;
  value: string;
}

/** Thrown for malformed files; the runner turns it into an error annotation and a failed step. */
export class EnvFileError extends AirlockError {
  constructor(message: string) {
    super(ErrorCode.ENV_FILE_INVALID, message);
  }
}

interface Line {
  text: string;
  /** Length of the line terminator consumed ("\n") or 0 at end of text. */
  nl: number;
}

function readLine(text: string, pos: { i: number }): Line | undefined {
  if (pos.i >= text.length) return undefined;
  const start = pos.i;
  const lf = text.indexOf("\n", start);
  if (lf < 0) {
    pos.i = text.length;
    return { text: text.slice(start), nl: 0 };
  }
  pos.i = lf + 1;
  return { text: text.slice(start, lf), nl: 1 };
}

/** Parses a GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE file. Later duplicates win when applied. */
export function parseKeyValueFile(text: string, fileName: string): KeyValue[] {
  return [...iterateKeyValueFile(text, fileName)];
}

/**
 * Lazily, like actions/runner: pairs before a malformed entry are still applied by a caller that
 * consumes them one by one, then the error is thrown.
 */
export function* iterateKeyValueFile(text: string, fileName: string): Generator<KeyValue> {
  const pos = { i: 0 };
  for (let line = readLine(text, pos); line !== undefined; line = readLine(text, pos)) {
    const l = line.text;
    if (l === "") continue;
    const eq = l.indexOf("=");
    const heredoc = l.indexOf("<<");
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const name = l.slice(0, eq);
      if (name === "")
        throw new EnvFileError(`Invalid format '${l}' in ${fileName}: the name must not be empty`);
      yield { name, value: l.slice(eq + 1) };
    } else if (heredoc >= 0) {
      const name = l.slice(0, heredoc);
      const delimiter = l.slice(heredoc + 2);
      if (name === "" || delimiter === "") {
        throw new EnvFileError(
          `Invalid format '${l}' in ${fileName}: the name and the delimiter must not be empty`,
        );
      }
      const start = pos.i;
      let end = pos.i;
      let next = readLine(text, pos);
      while (next === undefined || next.text !== delimiter) {
        if (next === undefined) {
          throw new EnvFileError(`Invalid value in ${fileName}: matching delimiter not found '${delimiter}'`);
        }
        if (next.nl === 0) {
          // actions/runner: a value line must end with a newline before the delimiter line.
          throw new EnvFileError(`Invalid value in ${fileName}: EOF marker missing new line`);
        }
        end = pos.i - next.nl;
        next = readLine(text, pos);
      }
      yield { name, value: end > start ? text.slice(start, end) : "" };
    } else {
      throw new EnvFileError(`Invalid format '${l}' in ${fileName}`);
    }
  }
}

/** Parses a GITHUB_PATH file: one directory per line (any line ending), empty lines ignored. */
export function parsePathFile(text: string): string[] {
  return text.split(/\r\n|\n|\r/).filter((l) => l !== "");
}
