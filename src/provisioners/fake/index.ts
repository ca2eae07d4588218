// Fake provisioner: a "machine" is a private temp folder on the host and its processes are plain
// host processes. NO isolation whatsoever — for tests of the layers above and for baselines.
// `paths` are the real host paths of the folders, so no translation is needed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { wrapChild } from "../common/exec-handle.js";
import { MachineFs } from "../common/safe-fs.js";
import type { ExecHandle, ExecRequest, Machine, MachinePaths, MachineSpec, Provisioner } from "../types.js";

export interface FakeProvisionerOptions {
  /** Where machine folders are created; defaults to the OS temp folder. */
  baseDir?: string;
}

export function createFakeProvisioner(opts: FakeProvisionerOptions = {}): Provisioner {
  return {
    name: "fake",
    async create(spec: MachineSpec): Promise<Machine> {
      const base = opts.baseDir ?? os.tmpdir();
      await fsp.mkdir(base, { recursive: true });
      const root = await fsp.mkdtemp(path.join(base, "airlock-fake-"));
      await fsp.chmod(root, 0o700);
      const paths: MachinePaths = {
        workspace: path.join(root, "workspace"),
        temp: path.join(root, "temp"),
        actions: path.join(root, "actions"),
        home: path.join(root, "home"),
        toolCache: path.join(root, "toolcache"),
      };
      await Promise.all(Object.values(paths).map((p) => fsp.mkdir(p)));
      return new FakeMachine(spec, root, paths);
    },
  };
}

class FakeMachine implements Machine {
  readonly id = `fake-${randomBytes(6).toString("hex")}`;
  private readonly fs: MachineFs;
  /** Process-group ids of every exec, killed on destroy. */
  private readonly groups = new Set<number>();
  private destroyed: Promise<void> | undefined;

  constructor(
    readonly spec: MachineSpec,
    private readonly root: string,
    readonly paths: MachinePaths,
  ) {
    this.fs = new MachineFs({ roots: Object.values(paths).map((p) => ({ inner: p, host: p })) });
  }

  exec(req: ExecRequest): ExecHandle {
    const [file, ...args] = req.argv;
    if (file === undefined) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
    // detached: own process group, so kill() reaches everything the step started (unless it setsid's).
    const child = spawn(file, args, {
      env: req.env,
      cwd: req.cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pgid = child.pid;
    if (pgid !== undefined) this.groups.add(pgid);
    return wrapChild(child, () => {
      if (pgid !== undefined) killGroup(pgid);
    });
  }

  writeFile(innerPath: string, data: string | Uint8Array): Promise<void> {
    return this.fs.writeFile(innerPath, data);
  }

  readFile(innerPath: string): Promise<Buffer | undefined> {
    return this.fs.readFile(innerPath);
  }

  copyIn(hostPath: string, innerPath: string): Promise<void> {
    return this.fs.copyIn(hostPath, innerPath);
  }

  hostPath(innerPath: string): string | undefined {
    return this.fs.hostPath(innerPath);
  }

  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      for (const g of this.groups) killGroup(g);
      await fsp.rm(this.root, { recursive: true, force: true });
    })();
    return this.destroyed;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}
