// A FAKE MachineContainers for the runner's semantics (not isolation): it records every call, and a
// "container" is a host process of the fake machine whose paths (/github/workspace, …) are mapped
// back to the machine's folders. Images: `fake/sh` (no entry point: the args are the command),
// and what build() makes of a Dockerfile (its ENTRYPOINT JSON list and COPY lines). Services answer
// health() from a script per image: `healthy-after-N`, `unhealthy`, `no-check`.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { dockerActionMounts } from "../../src/containers/index.js";
import type {
  ContainerRun,
  ContainerSpec,
  ExecHandle,
  Machine,
  MachineContainers,
  ServiceContainer,
} from "../../src/provisioners/index.js";

interface Image {
  entrypoint: string[];
  /** Container path → host path of files COPY'd in. */
  files: Map<string, string>;
}

export type Call =
  | { kind: "startService"; name: string; spec: ContainerSpec }
  | { kind: "build"; contextDir: string; dockerfile: string; tag: string }
  | { kind: "run"; req: ContainerRun }
  | { kind: "health"; name: string };

export class FakeContainers implements MachineContainers {
  readonly calls: Call[] = [];
  private readonly images = new Map<string, Image>([["fake/sh", { entrypoint: [], files: new Map() }]]);

  constructor(private readonly machine: Machine) {}

  startService(name: string, spec: ContainerSpec): Promise<ServiceContainer> {
    this.calls.push({ kind: "startService", name, spec });
    let asked = 0;
    const m = /^healthy-after-(\d+)$/.exec(spec.image);
    return Promise.resolve({
      name,
      health: () => {
        this.calls.push({ kind: "health", name });
        asked++;
        if (spec.image === "unhealthy") return Promise.resolve(asked < 2 ? "starting" : "unhealthy");
        if (spec.image === "no-check") return Promise.resolve("none");
        if (m) return Promise.resolve(asked > Number(m[1]) ? "healthy" : "starting");
        return Promise.resolve("healthy");
      },
      logs: () =>
        Promise.resolve(Array.from({ length: 80 }, (_, i) => `${name} log line ${i + 1}`).join("\n") + "\n"),
    });
  }

  build(req: { contextDir: string; dockerfile: string; tag: string }): Promise<string> {
    this.calls.push({ kind: "build", ...req });
    const text = readFileSync(path.join(req.contextDir, req.dockerfile), "utf8");
    const image: Image = { entrypoint: [], files: new Map() };
    for (const line of text.split("\n")) {
      const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/.exec(line);
      if (entry) image.entrypoint = JSON.parse(entry[1]!) as string[];
      const copy = /^COPY\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (copy) {
        // The context is gone after build() (as with a real builder, the image keeps its files).
        const store = this.machine.hostPath!(
          `${this.machine.paths.temp}/.fake-image-${req.tag.replace(/\W/g, "_")}`,
        )!;
        mkdirSync(store, { recursive: true });
        const kept = path.join(store, path.basename(copy[1]!));
        copyFileSync(path.join(req.contextDir, copy[1]!), kept);
        image.files.set(copy[2]!, kept);
      }
    }
    this.images.set(req.tag, image);
    return Promise.resolve(req.tag);
  }

  run(req: ContainerRun): ExecHandle {
    this.calls.push({ kind: "run", req });
    const image = this.images.get(req.image);
    if (!image) {
      const fail = (): Readable => Readable.from([`no such image ${req.image}\n`]);
      return {
        stdout: Readable.from([]),
        stderr: fail(),
        wait: () => Promise.resolve({ exitCode: 125, signal: null }),
        kill: () => undefined,
      };
    }
    const mounts = dockerActionMounts(this.machine.paths);
    const back = (v: string): string => {
      if (image.files.has(v)) return image.files.get(v)!;
      for (const m of mounts) {
        if (v === m.container) return m.machine;
        if (v.startsWith(`${m.container}/`)) return m.machine + v.slice(m.container.length);
      }
      return v;
    };
    const argv = [...(req.entrypoint !== undefined ? [req.entrypoint] : image.entrypoint), ...req.args];
    const env = Object.fromEntries(Object.entries(req.env).map(([k, v]) => [k, back(v)]));
    return this.machine.exec({
      argv: argv.map(back),
      env: { ...env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: back(req.workdir),
    });
  }

  runs(): ContainerRun[] {
    return this.calls.flatMap((c) => (c.kind === "run" ? [c.req] : []));
  }
}
