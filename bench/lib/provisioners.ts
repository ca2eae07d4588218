// The provisioners bench:provisioners compares: each starts its provisioner (or says in one line
// why it cannot run on this machine) and gives the spec of a machine on the debian-12 image.
import path from "node:path";
import {
  createSandboxProvisioner,
  type MachineLimits,
  type MachineSpec,
  type Provisioner,
} from "../../src/provisioners/index.js";

export interface ContenderInput {
  /** A scratch folder of the run, removed at the end. */
  work: string;
  /** The debian-12 image's rootfs folder. */
  rootfs: string;
  limits: MachineLimits;
}

export interface Started {
  prov: Provisioner;
  spec: MachineSpec;
  close(): Promise<void>;
}

export interface Contender {
  name: string;
  /** Seconds per machine rather than milliseconds: measured in fewer rounds. */
  slow: boolean;
  /** A started provisioner, or why it is not available here. */
  start(input: ContenderInput): Promise<Started | string>;
  /** Lines to print under the tables (e.g. how the VM was accelerated). */
  notes?(): string[];
}

const imageSpec = (input: ContenderInput): MachineSpec => ({
  name: "bench",
  root: { kind: "image", path: input.rootfs },
  limits: input.limits,
});

export function contenders(): Contender[] {
  return [
    {
      name: "sandbox",
      slow: false,
      start(input) {
        const prov = createSandboxProvisioner({ baseDir: path.join(input.work, "sandbox") });
        return Promise.resolve({ prov, spec: imageSpec(input), close: async () => prov.close?.() });
      },
    },
  ];
}
