// The dotenv-style files of a local `airlock run`, as `act` reads them: `.secrets`, `.vars`,
// `.env` and `.input` in the repository (or the file an option names). Values mean what the
// `dotenv` package makes of them (quotes, `\n` in double quotes, multi-line quoted values,
// `export NAME=`, `#` comments); unlike dotenv, which skips what it cannot read, a line that is
// not `NAME=value` stops the run with `file:line` — and never the line itself, which may hold a
// secret.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { parseKeyValues, readOptionFile } from "./args.js";

/** Environment variable, secret and variable names; inputs may also hold `-`. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const ENTRY = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*/;

function problem(file: string, line: number, why: string): AirlockError {
  return new AirlockError(ErrorCode.USAGE, `${file}:${line}: ${why}`);
}

/**
 * NAME=value entries of a dotenv file; `names` is the rule every name must follow. Throws USAGE
 * naming `display:line` for a line that is not an entry, an unterminated quote, text after a
 * closing quote or a bad name.
 */
export function parseEnvFile(
  text: string,
  display: string,
  names: RegExp = ENV_NAME,
): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = ENTRY.exec(line);
    if (!m?.[1]) throw problem(display, i + 1, "expected NAME=value");
    const name = m[1];
    // The name is not repeated: in a secret file, a pasted value (a token with '=') can look like one.
    if (!names.test(name))
      throw problem(
        display,
        i + 1,
        `not a valid name (letters, digits${names === INPUT_NAME ? ", -" : ""} and _, not starting with a digit)`,
      );
    const start = i;
    const rest = line.slice(m[0].length);
    const quote = rest[0];
    let entry = line;
    if (quote === '"' || quote === "'" || quote === "`") {
      // The closing quote may be lines further down (a multi-line value); a backslash escapes it.
      let body = rest.slice(1);
      let close = closingQuote(body, quote);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += "\n" + (lines[i] ?? "");
        close = closingQuote(body, quote);
      }
      if (close < 0) throw problem(display, start + 1, `the value's ${quote} quote is never closed`);
      const after = body.slice(close + 1).trim();
      if (after !== "" && !after.startsWith("#"))
        throw problem(display, i + 1, "unexpected text after the closing quote");
      entry = line.slice(0, m[0].length) + quote + body;
    }
    const value = parse(entry)[name];
    if (value === undefined) throw problem(display, start + 1, "expected NAME=value");
    out[name] = value;
  }
  return out;
}

function closingQuote(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    if (body[j] === "\\") j++;
    else if (body[j] === quote) return j;
  }
  return -1;
}

export interface EnvFileOption {
  /** The path the option gave (relative to the working directory), if any. */
  given?: string;
  /** The option's name, for errors ("--env-file"). */
  flag: string;
  /** The default file's name in the repository's root (".env"), read only when it exists. */
  defaultName: string;
  names?: RegExp;
}

export interface EnvFileResult {
  values: Record<string, string>;
  /** The file read (absolute when the default), or undefined when there was none. */
  file?: string;
  usedDefault: boolean;
}

/**
 * Reads the file an option names (missing: one USAGE line), else the default file in `root` when
 * it exists (missing: nothing).
 */
export async function readEnvFileOption(root: string, o: EnvFileOption): Promise<EnvFileResult> {
  if (o.given !== undefined) {
    const text = await readOptionFile(o.given, o.flag);
    return { values: parseEnvFile(text, o.given, o.names), file: o.given, usedDefault: false };
  }
  const file = join(root, o.defaultName);
  if (!existsSync(file)) return { values: {}, usedDefault: false };
  const text = await readOptionFile(file, o.flag);
  return { values: parseEnvFile(text, o.defaultName, o.names), file, usedDefault: true };
}

export interface LocalValueOptions {
  varFile?: string;
  envFile?: string;
  inputFile?: string;
  /** --var, --env, --input: name=value, repeatable; they win over their file's values. */
  var: string[];
  env: string[];
  input: string[];
}

export interface LocalValues {
  vars: Record<string, string>;
  env: Record<string, string>;
  inputs: Record<string, string>;
  /** The default files (.vars, .env, .input) that were read, for the run's first lines. */
  defaultsRead: string[];
}

/** `vars`, extra job env and workflow_dispatch inputs: each file's values, then its options on top. */
export async function localValues(root: string, o: LocalValueOptions): Promise<LocalValues> {
  const defaultsRead: string[] = [];
  const read = async (
    given: string | undefined,
    flag: string,
    defaultName: string,
    items: string[],
    itemFlag: string,
    names: RegExp,
  ): Promise<Record<string, string>> => {
    const file = await readEnvFileOption(root, {
      ...(given !== undefined ? { given } : {}),
      flag,
      defaultName,
      names,
    });
    if (file.usedDefault) defaultsRead.push(defaultName);
    const flags = parseKeyValues(items, itemFlag);
    for (const name of Object.keys(flags))
      if (!names.test(name))
        throw new AirlockError(ErrorCode.USAGE, `${itemFlag} ${name.slice(0, 40)}: not a valid name`);
    return { ...file.values, ...flags };
  };
  const vars = await read(o.varFile, "--var-file", ".vars", o.var, "--var", ENV_NAME);
  const env = await read(o.envFile, "--env-file", ".env", o.env, "--env", ENV_NAME);
  const inputs = await read(o.inputFile, "--input-file", ".input", o.input, "--input", INPUT_NAME);
  return { vars, env, inputs, defaultsRead };
}
