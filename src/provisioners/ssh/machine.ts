// A machine on an SSH host: a fresh folder <baseDir>/<id> on the host with workspace, temp,
// actions, home and tool-cache, made by the helper; every process runs in its own session (setsid)
// whose id the helper records in the folder, so destroy() can kill them all (and any process of the
// user still working inside the folder) before removing it. Paths are the host's real paths.
import { createReadStream, promises as fsp } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { ExecHandle, ExecRequest, Machine, MachinePaths } from "../types.js";
import { call, execCall, type Target } from "./call.js";
import { execFields, request } from "./protocol.js";
import { stopControl } from "./ssh.js";

const DEFAULT_MAX_READ = 64 * 1024 * 1024;

export class SshMachine implements Machine {
  readonly paths: MachinePaths;
  readonly nodePath: string;
  private destroyed: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly t: Target,
    private readonly remoteId: string,
    root: string,
    private readonly onError: (e: AirlockError) => void,
    private readonly onDestroyed: () => void,
  ) {
    const p = (d: string): string => path.posix.join(root, d);
    this.paths = {
      workspace: p("workspace"),
      temp: p("temp"),
      actions: p("actions"),
      home: p("home"),
      toolCache: p("tool-cache"),
    };
    this.nodePath = t.host.nodePath;
  }

  private req(op: "w" | "r" | "c" | "x" | "d", fields: string[] = []): Buffer {
    return request(op, this.t.host.baseDir, this.remoteId, fields);
  }

  private live(): void {
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
  }

  exec(req: ExecRequest): ExecHandle {
    this.live();
    if (req.argv.length === 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    return execCall(this.t, this.req("x", execFields(req.argv, req.env, req.cwd)), this.onError);
  }

  async writeFile(innerPath: string, data: string | Uint8Array): Promise<void> {
    this.live();
    const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.guard(call(this.t, this.req("w", [innerPath, "644"]), body));
  }

  async readFile(innerPath: string, opts: { maxBytes?: number } = {}): Promise<Buffer | undefined> {
    this.live();
    const max = opts.maxBytes ?? DEFAULT_MAX_READ;
    const frames = await this.guard(call(this.t, this.req("r", [innerPath, String(max)])));
    if (frames[frames.length - 1]?.type === "n") return undefined;
    return Buffer.concat(frames.filter((f) => f.type === "d").map((f) => f.data));
  }

  async copyIn(hostPath: string, innerPath: string): Promise<void> {
    this.live();
    const st = await fsp.stat(hostPath);
    if (st.isFile()) {
      const mode = (st.mode & 0o111 ? 0o755 : 0o644).toString(8);
      await this.guard(call(this.t, this.req("w", [innerPath, mode]), createReadStream(hostPath)));
      return;
    }
    if (!st.isDirectory())
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `copyIn: ${hostPath} is not a file or folder`);
    // tar of the folder's contents, streamed into the helper's tar on the host.
    const tar = spawn("tar", ["-C", hostPath, "-cf", "-", "."], { stdio: ["ignore", "pipe", "pipe"] });
    let tarErr = "";
    tar.stderr.on("data", (c: Buffer) => (tarErr += c.toString("utf8")));
    const tarDone = new Promise<number | null>((resolve) => tar.once("close", resolve));
    await this.guard(call(this.t, this.req("c", [innerPath]), tar.stdout));
    if ((await tarDone) !== 0)
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `copyIn: tar of ${hostPath} failed: ${tarErr.trim()}`);
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      try {
        await call(this.t, this.req("d"));
      } finally {
        if (this.t.control) await stopControl(this.t.host, this.t.control.path);
        this.onDestroyed();
      }
    })();
    return this.destroyed;
  }

  private async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof AirlockError && e.code === ErrorCode.HOST_KEY_MISMATCH) this.onError(e);
      throw e;
    }
  }
}
