// A provisioner wrapper for the long-running agent: once a job is aborted, its machine takes no
// more work (exec/writeFile/copyIn and its sibling containers fail at once instead of racing the machine's removal), and
// destroy() never rejects: runJobOnNewMachine destroys on abort with `void machine.destroy()`,
// and one unhandled rejection would take the whole agent (and every other job) down.
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Machine, MachineContainers, MachineSpec, Provisioner } from "../provisioners/types.js";
import type { AgentLogger } from "./logger.js";

export function guardedProvisioner(inner: Provisioner, signal: AbortSignal, log: AgentLogger): Provisioner {
  return {
    name: inner.name,
    async create(spec: MachineSpec): Promise<Machine> {
      return guardMachine(await inner.create(spec), signal, log);
    },
  };
}

function guardMachine(m: Machine, signal: AbortSignal, log: AgentLogger): Machine {
  const refuse = (): AirlockError =>
    new AirlockError(ErrorCode.MACHINE_FAILED, `${m.id} is being destroyed (job cancelled)`);
  let destroyed: Promise<void> | undefined;
  const guarded: Machine = {
    id: m.id,
    paths: m.paths,
    nodePath: m.nodePath,
    exec(req) {
      if (signal.aborted) throw refuse();
      return m.exec(req);
    },
    writeFile: (p, data) => (signal.aborted ? Promise.reject(refuse()) : m.writeFile(p, data)),
    // opts carries maxBytes: a job can make its files as large as it likes.
    readFile: (p, opts) => m.readFile(p, opts),
    copyIn: (h, p) => (signal.aborted ? Promise.reject(refuse()) : m.copyIn(h, p)),
    destroy() {
      destroyed ??= m.destroy().catch((err: unknown) => {
        log.error({ machine: m.id, err: String(err) }, "machine could not be destroyed completely");
      });
      return destroyed;
    },
  };
  if (m.hostPath) guarded.hostPath = (p) => m.hostPath!(p);
  // Whatever else the machine offers passes through unchanged (a limit it went over, its env, its job services).
  if (m.limitExceeded) guarded.limitExceeded = () => m.limitExceeded!();
  if (m.env) Object.assign(guarded, { env: m.env });
  if (m.servicesUrl !== undefined) Object.assign(guarded, { servicesUrl: m.servicesUrl });
  // Its sibling containers (services, Docker actions), refused like exec once the job is aborted.
  const c = m.containers;
  if (c) {
    const containers: MachineContainers = {
      startService: (name, spec) => (signal.aborted ? Promise.reject(refuse()) : c.startService(name, spec)),
      build: (req) => (signal.aborted ? Promise.reject(refuse()) : c.build(req)),
      run(req) {
        if (signal.aborted) throw refuse();
        return c.run(req);
      },
    };
    Object.assign(guarded, { containers });
  }
  return guarded;
}
