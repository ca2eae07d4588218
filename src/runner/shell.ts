// Shell resolution for `run:` steps, as GitHub does it on Linux runners:
//   (unspecified)  bash -e {0}                               (sh -e {0} when bash is absent)
//   bash           bash --noprofile --norc -eo pipefail {0}
//   sh             sh -e {0}
//   python         python {0}                               (script gets .py; python3 if no python)
//   pwsh/powershell/cmd                                     unsupported here: a clear step failure
//   anything else  a custom template with {0}, split into argv without a shell
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface ShellTemplate {
  /** Program names to try in order (resolved on the step's PATH); the first found wins. */
  programs: string[];
  /** Arguments; "{0}" anywhere inside is replaced by the script path. */
  args: string[];
  /** Extension of the script file (".sh", ".py", ""). */
  ext: string;
}

const UNSUPPORTED = new Set(["pwsh", "powershell", "cmd"]);

export function shellTemplate(shell: string | undefined): ShellTemplate {
  const s = shell?.trim() ?? "";
  if (s === "") return { programs: ["bash", "sh"], args: ["-e", "{0}"], ext: ".sh" };
  if (s === "bash")
    return { programs: ["bash"], args: ["--noprofile", "--norc", "-eo", "pipefail", "{0}"], ext: ".sh" };
  if (s === "sh") return { programs: ["sh"], args: ["-e", "{0}"], ext: ".sh" };
  if (s === "python") return { programs: ["python", "python3"], args: ["{0}"], ext: ".py" };
  if (UNSUPPORTED.has(s)) {
    throw new AirlockError(
      ErrorCode.SHELL_UNSUPPORTED,
      `shell '${s}' is not supported on this runner (Linux)`,
    );
  }
  if (!s.includes("{0}")) {
    throw new AirlockError(
      ErrorCode.SHELL_UNSUPPORTED,
      `invalid shell '${s}': a custom shell must contain the placeholder {0} for the script path`,
    );
  }
  const [program, ...args] = splitArgs(s);
  if (program === undefined || program.includes("{0}")) {
    throw new AirlockError(
      ErrorCode.SHELL_UNSUPPORTED,
      `invalid shell '${s}': the first word must be a program`,
    );
  }
  if (UNSUPPORTED.has(program)) {
    throw new AirlockError(
      ErrorCode.SHELL_UNSUPPORTED,
      `shell '${program}' is not supported on this runner (Linux)`,
    );
  }
  const base = program.split("/").pop() ?? program;
  const ext = base === "bash" || base === "sh" ? ".sh" : base === "python" ? ".py" : "";
  return { programs: [program], args, ext };
}

/** Splits on whitespace, honouring simple "double" and 'single' quotes (no escapes, no expansion). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: string | undefined;
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

export function buildArgv(program: string, t: ShellTemplate, scriptPath: string): string[] {
  return [program, ...t.args.map((a) => a.split("{0}").join(scriptPath))];
}
