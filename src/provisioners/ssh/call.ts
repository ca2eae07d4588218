// One call to the helper on an SSH host: spawn ssh, send the request (and a body, if any), read
// the reply frames. `call` is for the short operations (create, files, destroy); `execCall` keeps
// the connection open while the process runs: its stdout and stderr arrive as frames, and closing
// our end of ssh's stdin is how kill() reaches the remote process group.
import { constants as osConstants } from "node:os";
import { PassThrough, type Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { ExecHandle, ExecResult } from "../types.js";
import type { HostStore, SshHost } from "./hosts.js";
import { FrameReader, type Frame } from "./protocol.js";
import { spawnSsh, sshFailure, type Control } from "./ssh.js";

const STDERR_LIMIT = 64 * 1024;

export interface Target {
  host: SshHost;
  store: HostStore;
  control?: Control;
}

/** Runs one operation; resolves with its frames (the last one "r" or "n"), throws on "F" or failure. */
export async function call(t: Target, header: Buffer, body?: Readable | Uint8Array): Promise<Frame[]> {
  const child = spawnSsh(t.host, t.store, t.control);
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => reader.push(c));
  child.stderr!.on("data", (c: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += c.toString("utf8");
  });
  child.stdin!.on("error", () => undefined);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  child.stdin!.write(header);
  if (body instanceof Uint8Array) child.stdin!.end(body);
  else if (body) body.pipe(child.stdin!);
  else child.stdin!.end();
  const code = await exited;
  const last = frames[frames.length - 1];
  if (last?.type === "F") {
    const text = last.data.toString("utf8");
    const [kind, ...rest] = text.split(" ");
    const msg = rest.join(" ");
    if (kind === "escape") throw new AirlockError(ErrorCode.MACHINE_PATH_ESCAPE, msg);
    if (kind === "large") throw new AirlockError(ErrorCode.MACHINE_FILE_TOO_LARGE, msg);
    throw new AirlockError(ErrorCode.MACHINE_FAILED, `ssh host ${t.host.name}: ${msg}`);
  }
  if (last?.type === "r" || last?.type === "n") return frames;
  throw sshFailure(t.host, t.store, code, stderr);
}

/** Starts a process through the helper; the handle's streams carry its output. */
export function execCall(t: Target, header: Buffer, onError: (e: AirlockError) => void): ExecHandle {
  const child = spawnSsh(t.host, t.store, t.control);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let status: ExecResult | undefined;
  let sshErr = "";
  const reader = new FrameReader((f) => {
    if (f.type === "o" || f.type === "e") {
      const dst = f.type === "o" ? stdout : stderr;
      if (!dst.write(f.data)) {
        child.stdout!.pause();
        dst.once("drain", () => child.stdout!.resume());
      }
    } else if (f.type === "x") {
      const [code, sig] = f.data.toString("ascii").split(" ").map(Number);
      status = sig ? { exitCode: null, signal: signalName(sig) } : { exitCode: code ?? null, signal: null };
    } else if (f.type === "F") {
      // The helper could not start the process (machine folder gone, ...): like a failed spawn.
      stderr.write(`airlock: ${f.data.toString("utf8").replace(/^\w+ /, "")}\n`);
      status = { exitCode: 127, signal: null };
    }
  });
  child.stdout!.on("data", (c: Buffer) => reader.push(c));
  child.stderr!.on("data", (c: Buffer) => {
    if (sshErr.length < STDERR_LIMIT) sshErr += c.toString("utf8");
  });
  child.stdin!.on("error", () => undefined);
  child.stdin!.write(header);
  let killTimer: NodeJS.Timeout | undefined;
  const result = new Promise<ExecResult>((resolve) => {
    const done = (r: ExecResult): void => {
      clearTimeout(killTimer);
      stdout.end();
      stderr.end();
      resolve(r);
    };
    child.once("error", (e) => {
      stderr.write(`airlock: cannot run ssh: ${e.message}\n`);
      done({ exitCode: 127, signal: null });
    });
    child.once("close", (code) => {
      if (status) return done(status);
      const err = sshFailure(t.host, t.store, code, sshErr);
      onError(err);
      stderr.write(`airlock: ${err.message}\n`);
      done({ exitCode: 255, signal: null });
    });
  });
  return {
    stdout,
    stderr,
    wait: () => result,
    kill() {
      // EOF on the helper's stdin: it kills the process group and reports; ssh itself as a backstop.
      child.stdin!.end();
      killTimer ??= setTimeout(() => child.kill("SIGKILL"), 10_000);
      killTimer.unref();
    },
  };
}

function signalName(n: number): NodeJS.Signals {
  const hit = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return (hit?.[0] ?? "SIGKILL") as NodeJS.Signals;
}
