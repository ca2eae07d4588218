// Containers beside a machine (Machine.containers): job services, Docker actions' images and runs.
// Every one joins the machine's user and network namespaces (--userns/--network container:<machine>):
// services are reached on 127.0.0.1 and by name through the job's /etc/hosts (written here, mounted
// read-only everywhere), nothing else is reachable. Same labels, capabilities (none),
// no-new-privileges, seccomp and limits as the machine; service images from local storage or the
// operator's registry (registry.ts), Docker actions' from local storage only.
import { createHash } from "node:crypto";
import { chownSync, mkdirSync, promises as fsp } from "node:fs";
import path from "node:path";
import { parsePort } from "../../containers/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { egressProxyEnv } from "../common/egress-relay.js";
import { wrapChild } from "../common/exec-handle.js";
import type {
  ContainerRun,
  ContainerSpec,
  ExecHandle,
  MachineContainers,
  MachineLimits,
  ServiceContainer,
} from "../types.js";
import { commonArgs, containerName, LABEL_MACHINE, LABEL_OWNER, tmpArgs } from "./args.js";
import { podmanOptions } from "../../containers/index.js";
import { writeEnvFile } from "./env-file.js";
import { firstError, type Podman } from "./podman.js";
import { ensureWorkflowImage, type ContainerRegistry } from "./registry.js";
import { volumeArgs, type VolumeContext } from "./volumes.js";

export interface SiblingsInput {
  podman: Podman;
  id: string;
  owningLabel: string;
  limits: MachineLimits;
  machineDir: string;
  hostsFile: string;
  owner: { uid: number; gid: number };
  /** First host uid/gid of the machine's user namespace. */
  idBase: number;
  egress: boolean;
  /** The machine's network namespace (/proc/<pid>/ns/net): builds of a machine with egress use it. */
  netns: string;
  /** Publishes a loopback port of the machine's network namespace as another (`8080:80`). */
  forward(listen: number, to: number): Promise<void>;
  /** The operator's registry: service images may be pulled from it (registry.ts). */
  registry: ContainerRegistry | undefined;
  alive(): boolean;
  /** False in rootless mode without cgroup delegation (args.ts commonArgs). */
  cgroupLimits?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function hostsText(names: readonly string[]): string {
  return [
    "127.0.0.1 localhost airlock",
    "::1 localhost ip6-localhost ip6-loopback",
    ...names.map((n) => `127.0.0.1 ${n}`),
    "",
  ].join("\n");
}

export class Siblings implements MachineContainers {
  private readonly services = new Map<string, string>();
  private readonly images: string[] = [];
  private runs = 0;

  constructor(private readonly i: SiblingsInput) {}

  /** Names of every sibling container started so far. */
  names(): string[] {
    return [...this.services.values()];
  }

  private check(): void {
    if (!this.i.alive())
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.i.id} is destroyed or was killed`);
  }

  private shared(): string[] {
    const machine = containerName(this.i.id);
    return [
      ...commonArgs(this.i.id, this.i.owningLabel, this.i.limits, this.i.cgroupLimits ?? true),
      "--userns",
      `container:${machine}`,
      "--network",
      `container:${machine}`,
      "--volume",
      `${this.i.hostsFile}:/etc/hosts:ro`,
      ...tmpArgs(this.i.limits),
    ];
  }

  async startService(name: string, spec: ContainerSpec): Promise<ServiceContainer> {
    this.check();
    if (!NAME.test(name) || this.services.has(name)) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        `service name "${name.slice(0, 64)}" is not valid or taken`,
      );
    }
    const options = podmanOptions(spec.options, "service", `service '${name}'`, spec.allowOptions);
    const vars = { ...options.env, ...spec.env };
    const published = (spec.ports ?? [])
      .map((p) => parsePort(p, `service ${name}`))
      .filter((p) => p.host !== p.container);
    const cname = `${containerName(this.i.id)}-svc-${name}`;
    const volumes = await volumeArgs(this.volumeContext(), spec.volumes);
    const args = [
      "run",
      "--detach",
      "--pull=never",
      "--name",
      cname,
      ...this.shared(),
      ...volumes,
      ...options.args,
      ...(spec.entrypoint !== undefined ? [`--entrypoint=${spec.entrypoint}`] : []),
    ];
    const image = await ensureWorkflowImage(this.i.podman, spec.image, this.i.registry, () =>
      Promise.resolve(spec.credentials),
    );
    // Detached: podman has read the env-file once it returns.
    const envFile = writeEnvFile(this.i.podman.privateDir, vars);
    try {
      this.services.set(name, cname);
      await fsp.writeFile(this.i.hostsFile, hostsText([...this.services.keys()]));
      await this.i.podman.ok(
        [...args, ...envFile.args, "--", image, ...(spec.command ?? [])],
        `service ${name} could not start`,
      );
    } finally {
      envFile.remove();
    }
    // The job reaches the container port as it is; `8080:80` also answers on 8080, forwarded
    // inside the machine's own network namespace (nothing is published on the host).
    for (const p of published) await this.i.forward(p.host, p.container);
    const podman = this.i.podman;
    // Without systemd podman runs no health check by itself: run it here, but no more often than
    // the container's interval (its retries and start period then mean what they say; a poll
    // every few milliseconds would use up `--health-retries` of a slow starter in a second).
    let intervalMs: number | undefined;
    let lastRun = -Infinity;
    return {
      name,
      async health() {
        if (intervalMs === undefined) {
          const has = await podman.run([
            "inspect",
            "--format",
            // `--no-healthcheck` (or HEALTHCHECK NONE) leaves a check whose test is NONE.
            '{{if .Config.Healthcheck}}{{if eq (index .Config.Healthcheck.Test 0) "NONE"}}none{{else}}{{.Config.Healthcheck.Interval}}{{end}}{{else}}none{{end}}',
            cname,
          ]);
          const out = has.stdout.trim();
          if (out === "none" || out === "") return "none";
          // A Go duration ("2.5s", "1m30s"); 0 = Docker's default of 30 s.
          const ms = goDurationMs(out);
          intervalMs = ms > 0 ? ms : 30_000;
        }
        if (performance.now() - lastRun >= intervalMs) {
          lastRun = performance.now();
          await podman.run(["healthcheck", "run", cname]);
        }
        const st = (
          await podman.run(["inspect", "--format", "{{.State.Health.Status}}", cname])
        ).stdout.trim();
        return st === "healthy" || st === "unhealthy" ? st : "starting";
      },
      async logs(maxBytes: number) {
        const r = await podman.run(["logs", cname], { maxOut: maxBytes });
        const text = `${r.stdout}${r.stderr}`;
        return text.length > maxBytes ? text.slice(text.length - maxBytes) : text;
      },
    };
  }

  private volumeContext(): VolumeContext {
    return {
      podman: this.i.podman,
      id: this.i.id,
      owningLabel: this.i.owningLabel,
      workspace: { inner: "/airlock/workspace", host: path.join(this.i.machineDir, "workspace") },
      owner: this.i.owner,
    };
  }

  async build(req: { contextDir: string; dockerfile: string; tag: string }): Promise<string> {
    this.check();
    const hash = createHash("sha256").update(req.tag).digest("hex").slice(0, 12);
    const ref = `localhost/airlock/build:${this.i.id}-${hash}`;
    const dockerfile = path.resolve(req.contextDir, req.dockerfile);
    const rel = path.relative(req.contextDir, dockerfile);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new AirlockError(
        ErrorCode.CONTAINER_OPTION_REFUSED,
        `Dockerfile ${req.dockerfile} is outside its context`,
      );
    }
    const args = [
      "build",
      "--pull=never",
      "--format",
      "docker", // keeps HEALTHCHECK and the other Docker-only settings
      // Never the host's network: RUN steps run as host root (without capabilities). With egress
      // they join the machine's own network namespace (loopback only), so a `RUN apt-get` or
      // `curl` goes through the machine's egress relay and allow-list like the job's steps.
      ...this.buildNetwork(),
      // RUN steps run as host root inside the build container (a user namespace would cost a
      // chown of the whole base image per machine): no capabilities at all.
      "--cap-drop",
      "all",
      "--label",
      `${LABEL_MACHINE}=${this.i.id}`,
      "--label",
      `${LABEL_OWNER}=${this.i.owningLabel}`,
      "--tag",
      ref,
      "--file",
      dockerfile,
      "--",
      req.contextDir,
    ];
    this.images.push(ref);
    const r = await this.i.podman.run(args);
    if (r.code !== 0)
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `image build failed: ${firstError(r.stderr)}`);
    return ref;
  }

  private buildNetwork(): string[] {
    if (!this.i.egress) return ["--network", "none"];
    const proxy = egressProxyEnv();
    return [
      "--network",
      `ns:${this.i.netns}`,
      ...Object.entries(proxy).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ];
  }

  run(req: ContainerRun): ExecHandle {
    this.check();
    const cname = `${containerName(this.i.id)}-run-${++this.runs}`;
    const temp = path.join(this.i.machineDir, "temp");
    const parts: Array<[string, string]> = [
      ["_github_home", "/github/home"],
      ["_github_workflow", "/github/workflow"],
      ["_runner_file_commands", "/github/file_commands"],
    ];
    // The image's own user (root, for most Docker actions) writes the job's files as GitHub's does:
    // these capabilities count only in the machine's user namespace, i.e. over the machine's own
    // files (its range of host uids), nothing else.
    // Local images only: never a pull over the host's network to wherever the name points.
    const args = [
      "run",
      "--rm",
      "--pull=never",
      "--name",
      cname,
      ...this.shared(),
      "--cap-add",
      "CHOWN,DAC_OVERRIDE,FOWNER",
    ];
    args.push("--volume", `${path.join(this.i.machineDir, "workspace")}:/github/workspace:rw`);
    for (const [dir, inner] of parts) {
      const host = path.join(temp, dir);
      mkdirSync(host, { recursive: true, mode: 0o755 });
      chownSync(host, this.i.owner.uid, this.i.owner.gid);
      args.push("--volume", `${host}:${inner}:rw`);
    }
    args.push("--workdir", req.workdir);
    if (req.entrypoint !== undefined) args.push("--entrypoint", req.entrypoint);
    // Attached: the env-file goes once podman is done (it reads it when it creates the container).
    const envFile = writeEnvFile(this.i.podman.privateDir, req.env);
    args.push(...envFile.args, "--", req.image, ...req.args);
    let child;
    try {
      child = this.i.podman.spawn(args, { detached: true });
    } catch (e) {
      envFile.remove();
      throw e;
    }
    child.once("close", () => envFile.remove());
    child.once("error", () => envFile.remove());
    child.stdin?.end();
    const podman = this.i.podman;
    let killed = false;
    return wrapChild(child, () => {
      if (killed) return;
      killed = true;
      void podman.run(["rm", "--force", "--time", "0", cname]).catch(() => undefined);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    });
  }

  /** Removes the images this machine built. */
  async removeImages(): Promise<void> {
    if (this.images.length > 0) await this.i.podman.run(["rmi", "--force", "--ignore", ...this.images]);
  }
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a Go duration as podman prints it ("2.5s", "1m30s", "0s"); 0 when unreadable. */
export function goDurationMs(text: string): number {
  let total = 0;
  let matched = "";
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    matched += m[0];
  }
  return matched === text ? total : 0;
}
