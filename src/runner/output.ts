// Turns a step's output lines into events, applying workflow commands the way actions/runner does
// (stdout and stderr alike). Every emitted text goes through the masker (JobRun.log/annotate).
import path from "node:path/posix";
import { KNOWN_COMMANDS, parseCommand, type WorkflowCommand } from "./commands.js";
import type { JobRun } from "./state.js";
import type { StepRef } from "./types.js";

/** What commands act on: the running step's outputs, state and failure flag. */
export interface CommandTarget {
  run: JobRun;
  ref: StepRef;
  outputs: Record<string, string>;
  state: Record<string, string>;
  /** Set when a command could not be processed: the step fails, like CommandResult=Failed. */
  failed: boolean;
  /** The step's `env` context: where ACTIONS_ALLOW_UNSECURE_COMMANDS is read (set-env updates it). */
  env?: Record<string, string>;
}

export const UNSECURE_VARIABLE = "ACTIONS_ALLOW_UNSECURE_COMMANDS";
const UNSECURE_BLOG =
  "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/";

/** actions/runner reads the opt-in with C#'s bool.TryParse: "true" in any case, spaces around. */
export function unsecureAllowed(env: Record<string, string> | undefined): boolean {
  return /^\s*true\s*$/i.test(env?.[UNSECURE_VARIABLE] ?? "");
}

export class OutputProcessor {
  /** Set while `::stop-commands::` is in effect (lower-cased resume token). */
  private stopToken: string | undefined;

  constructor(private readonly t: CommandTarget) {}

  /** `cut` > 0: an over-long line cut short; it is logged as plain text, never run as a command. */
  line(stream: "stdout" | "stderr", text: string, cut = 0): void {
    if (cut > 0) return this.t.run.logCut(this.t.ref, stream, text, cut);
    const cmd = parseCommand(text, (n) => KNOWN_COMMANDS.has(n) || n === this.stopToken);
    if (!cmd) return this.plain(stream, text);
    if (this.stopToken !== undefined) {
      if (cmd.name === this.stopToken) {
        this.stopToken = undefined;
        return this.t.run.log(this.t.ref, stream, "command", text);
      }
      return this.plain(stream, text);
    }
    this.apply(stream, text, cmd);
  }

  private plain(stream: "stdout" | "stderr", text: string): void {
    this.t.run.log(this.t.ref, stream, "line", text);
  }

  private fail(text: string, message: string): void {
    this.t.run.annotate(this.t.ref, "error", `Unable to process command '${text.trim()}' successfully.`);
    this.t.run.annotate(this.t.ref, "error", message);
    this.t.failed = true;
  }

  private apply(stream: "stdout" | "stderr", text: string, cmd: WorkflowCommand): void {
    const { run, ref } = this.t;
    switch (cmd.name) {
      case "add-mask":
        if (cmd.data.trim() === "") {
          run.annotate(ref, "warning", "Can't add secret mask for empty string in ##[add-mask] command.");
        } else run.masker.addMask(cmd.data);
        return;
      case "stop-commands":
        if (cmd.data === "") return this.fail(text, "stop-commands requires a resume token");
        run.log(ref, stream, "command", text);
        this.stopToken = cmd.data.toLowerCase();
        return;
      case "group":
        return run.log(ref, stream, "group-start", cmd.data);
      case "endgroup":
        return run.log(ref, stream, "group-end", "");
      case "debug":
        if (run.debug) run.log(ref, stream, "debug", cmd.data);
        return;
      case "error":
      case "warning":
      case "notice":
        return this.issue(cmd.name, cmd);
      case "set-output":
      case "save-state": {
        const name = cmd.properties.name;
        if (!name) return this.fail(text, `Required field 'name' is missing in ##[${cmd.name}] command.`);
        const file = cmd.name === "set-output" ? "GITHUB_OUTPUT" : "GITHUB_STATE";
        run.annotate(
          ref,
          "warning",
          `The \`${cmd.name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files (${file}).`,
        );
        if (cmd.name === "set-output") this.t.outputs[name] = cmd.data;
        else this.t.state[name] = cmd.data;
        return;
      }
      case "set-env":
      case "add-path":
        return this.unsecure(text, cmd);
      case "echo":
        if (!/^(on|off)$/i.test(cmd.data.trim())) {
          return this.fail(text, `Invalid echo command value. Possible values can be: 'on', 'off'.`);
        }
        return;
      default:
        // add-matcher / remove-matcher: problem matchers are not implemented; the command is consumed.
        return;
    }
  }

  /**
   * `set-env` and `add-path`, disabled since CVE-2020-15228 unless the step's env sets
   * ACTIONS_ALLOW_UNSECURE_COMMANDS to true (workflow, job or step `env:`, or GITHUB_ENV), as in
   * actions/runner. Untrusted runs never honour the opt-in: the commands let any printed line set
   * variables (NODE_OPTIONS-like tricks, PATH) for later steps, which is what the tier prevents.
   */
  private unsecure(text: string, cmd: WorkflowCommand): void {
    const { run, ref } = this.t;
    const disabled = `The \`${cmd.name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`${UNSECURE_VARIABLE}\` environment variable to \`true\`. For more information see: ${UNSECURE_BLOG}`;
    if (!unsecureAllowed(this.t.env)) return this.fail(text, disabled);
    if (run.job.trustTier === "untrusted") {
      return this.fail(
        text,
        `The \`${cmd.name}\` command is disabled: ${UNSECURE_VARIABLE} is ignored in untrusted runs (a pull request from a fork, or any run not trusted with the repository), because the command lets any printed text change the environment of later steps. Please upgrade to using Environment Files.`,
      );
    }
    if (cmd.name === "set-env") {
      const name = cmd.properties.name;
      if (!name) return this.fail(text, "Required field 'name' is missing in ##[set-env] command.");
      if (name.toUpperCase() === "NODE_OPTIONS") {
        run.annotate(
          ref,
          "error",
          "Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
        );
        return;
      }
      this.warnUnsecure(cmd.name);
      run.env[name] = cmd.data;
      if (this.t.env) this.t.env[name] = cmd.data;
      return;
    }
    if (cmd.data === "") return this.fail(text, "Value cannot be null or empty. (Parameter 'path')");
    this.warnUnsecure(cmd.name);
    run.prependPath = run.prependPath.filter((d) => d !== cmd.data);
    run.prependPath.push(cmd.data);
  }

  private warnUnsecure(name: string): void {
    this.t.run.annotate(
      this.t.ref,
      "warning",
      `The \`${name}\` command is deprecated and unsecure; it runs only because ${UNSECURE_VARIABLE} is true. Please upgrade to using Environment Files. For more information see: ${UNSECURE_BLOG}`,
    );
  }

  private issue(level: "error" | "warning" | "notice", cmd: WorkflowCommand): void {
    const p = cmd.properties;
    const num = (s: string | undefined): number | undefined => {
      if (s === undefined || !/^\d+$/.test(s.trim())) return undefined;
      return Number(s.trim());
    };
    let file = p.file;
    if (file) {
      // Like actions/runner: paths inside the workspace become repository-relative.
      const ws = this.t.run.machine.paths.workspace;
      const abs = path.isAbsolute(file) ? path.normalize(file) : undefined;
      if (abs !== undefined && abs.startsWith(`${ws}/`)) file = abs.slice(ws.length + 1);
    }
    const line = num(p.line) ?? num(p.endline);
    const col = line === undefined ? undefined : (num(p.col) ?? num(p.endcolumn));
    this.t.run.annotate(
      this.t.ref,
      level,
      cmd.data,
      {
        ...(file ? { file } : {}),
        ...(line !== undefined ? { line } : {}),
        ...(col !== undefined ? { col } : {}),
        ...(p.title ? { title: p.title } : {}),
      },
      "step",
    );
  }
}
