// Fake provisioner: a "machine" is a private temp folder on the host and its processes are plain
// host processes. NO isolation whatsoever — for tests of the layers above and for baselines.
// `paths` are the real host paths of the folders, so no translation is needed.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { HostFolderMachine } from "../common/host-machine.js";
import { MachineFs } from "../common/safe-fs.js";
import type { ExecHandle, ExecRequest, Machine, MachinePaths, MachineSpec, Provisioner } from "../types.js";

export interface FakeProvisionerOptions {
  /** Where machine folders are created; defaults to the OS temp folder. */
  baseDir?: string;
}

export function createFakeProvisioner(opts: FakeProvisionerOptions = {}): Provisioner {
  return {
    name: "fake",
    describe: () => Promise.resolve("plain host processes, no isolation (tests and baselines only)"),
    async create(spec: MachineSpec): Promise<Machine> {
      if (spec.jobContainer)
        throw new AirlockError(
          ErrorCode.MACHINE_UNSUPPORTED,
          "job containers (`container:`) are not supported by this provisioner (fake): they need the container provisioner",
        );
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
      const bridge = spec.services ? await tcpBridge(spec.services.socket) : undefined;
      return new FakeMachine(spec, root, paths, bridge);
    },
  };
}

class FakeMachine extends HostFolderMachine implements Machine {
  readonly id = `fake-${randomBytes(6).toString("hex")}`;
  /** Plain host processes: the host's own node. */
  readonly nodePath = process.execPath;
  private destroyed: Promise<void> | undefined;

  readonly servicesUrl: string | undefined;

  constructor(
    readonly spec: MachineSpec,
    private readonly root: string,
    readonly paths: MachinePaths,
    private readonly bridge: Bridge | undefined,
  ) {
    super(new MachineFs({ roots: Object.values(paths).map((p) => ({ inner: p, host: p })) }));
    this.servicesUrl = bridge ? `http://127.0.0.1:${bridge.port}` : undefined;
  }

  exec(req: ExecRequest): ExecHandle {
    const [file, ...args] = req.argv;
    if (file === undefined) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
    return this.spawnInGroup(file, args, req.env, req.cwd);
  }

  destroy(): Promise<void> {
    this.closing = true;
    this.destroyed ??= (async () => {
      this.killAllGroups();
      this.bridge?.close();
      await fsp.rm(this.root, { recursive: true, force: true, maxRetries: 5 });
    })();
    return this.destroyed;
  }
}

interface Bridge {
  port: number;
  close(): void;
}

/** Job services for host processes: a loopback TCP port carried to the services' unix socket. */
async function tcpBridge(socket: string): Promise<Bridge> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(socket);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("error", () => undefined);
      s.once("close", () => open.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      server.close();
      for (const s of open) s.destroy();
    },
  };
}
