// What Airlock processes that are gone (a crashed agent) left behind: containers, volumes and
// images labelled airlock.owner=<pid>.<start time> whose process no longer exists, and their
// private folders (<baseDir>/<pid>.<start time>/). Live owners' (other agents', other tests') are
// never touched.
import { promises as fsp, readdirSync } from "node:fs";
import path from "node:path";
import { LABEL_MACHINE, LABEL_OWNER } from "./args.js";
import { pidTag, removeMachineContainers } from "./machine.js";
import type { Podman } from "./podman.js";

function ownerAlive(tag: string): boolean {
  const pid = Number(tag.split(".")[0]);
  return Number.isInteger(pid) && pid > 0 && pidTag(pid) === tag;
}

/** Rows "<first> <owner>" of a podman listing whose owner is gone. */
async function deadRows(podman: Podman, args: string[], first: string): Promise<string[]> {
  const fmt = `${first} {{index .Labels "${LABEL_OWNER}"}}`;
  const out = (await podman.run([...args, "--filter", `label=${LABEL_OWNER}`, "--format", fmt])).stdout;
  return out
    .split("\n")
    .map((l) => l.trim().split(" "))
    .filter((f) => f.length === 2 && f[0] !== "" && f[1] !== "" && !ownerAlive(f[1] as string))
    .map((f) => f[0] as string);
}

export async function sweepLeftovers(
  podman: Podman,
  baseDir: string,
  self: string,
  removeDir: (dir: string) => Promise<void> = (d) => fsp.rm(d, { recursive: true, force: true }),
): Promise<void> {
  const machines = new Set(await deadRows(podman, ["ps", "--all"], `{{index .Labels "${LABEL_MACHINE}"}}`));
  for (const id of machines) await removeMachineContainers(podman, id).catch(() => undefined);
  const vols = await deadRows(podman, ["volume", "ls"], "{{.Name}}");
  if (vols.length > 0) await podman.run(["volume", "rm", "--force", ...vols]);
  const imgs = await deadRows(podman, ["images"], "{{.ID}}");
  if (imgs.length > 0) await podman.run(["rmi", "--force", "--ignore", ...imgs]);
  for (const d of readdirSync(baseDir)) {
    if (/^\d+\.\d+$/.test(d) && d !== self && !ownerAlive(d)) {
      await removeDir(path.join(baseDir, d));
    }
  }
}
