// Wrappers that timestamp the agent's side of a job without changing it: when the provisioner is
// asked for a machine, when the machine is ready, when the workspace checkout starts and ends.
// Times are wall-clock milliseconds with sub-millisecond precision, comparable with PostgreSQL's
// now() and with `date +%s%N` inside the sandbox (all the same host clock).
import type { Provisioner } from "../../src/provisioners/index.js";
import type { WorkspaceSource } from "../../src/runner/index.js";

export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface AgentMarks {
  createStart?: number;
  created?: number;
  checkoutStart?: number;
  checkoutEnd?: number;
}

export function timedProvisioner(inner: Provisioner, marks: () => AgentMarks): Provisioner {
  return {
    name: inner.name,
    async create(spec) {
      const m = marks();
      m.createStart = wallNow();
      const machine = await inner.create(spec);
      m.created = wallNow();
      return machine;
    },
  };
}

export function timedSource(inner: WorkspaceSource, marks: () => AgentMarks): WorkspaceSource {
  return {
    async checkout(machine, opts) {
      const m = marks();
      m.checkoutStart ??= wallNow();
      await inner.checkout(machine, opts);
      m.checkoutEnd = wallNow();
    },
  };
}
