// workspaceVolumeHostPath: the host folder a provisioner binds for a workspace volume, on a real
// (fake-provisioner) machine with symlinks a repository could hold.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, it } from "node:test";
import { workspaceVolumeHostPath } from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner } from "../../src/provisioners/index.js";

const machine = await createFakeProvisioner().create({ name: "v", root: HOST_ROOT });
const outside = mkdtempSync(path.join(tmpdir(), "airlock-outside-"));
after(async () => {
  await machine.destroy();
  rmSync(outside, { recursive: true, force: true });
});
const ws = realpathSync(machine.hostPath!(machine.paths.workspace)!);
mkdirSync(path.join(ws, "sub"));
symlinkSync("/etc", path.join(ws, "etc-link"));
symlinkSync(outside, path.join(ws, "out-link"));
symlinkSync("sub", path.join(ws, "in-link"));
symlinkSync(path.join(ws, ".."), path.join(ws, "up-link"));

it("creates missing folders inside the workspace and follows symlinks that stay inside", async () => {
  const data = await workspaceVolumeHostPath(machine, "./data/deep");
  assert.equal(data, path.join(ws, "data", "deep"));
  assert.ok(statSync(data).isDirectory());
  assert.equal(await workspaceVolumeHostPath(machine, "."), ws);
  assert.equal(await workspaceVolumeHostPath(machine, "./in-link"), path.join(ws, "sub"));
});

it("refuses symlinks that lead out of the workspace, also below a missing part, and creates nothing there", async () => {
  for (const source of ["./etc-link", "./out-link", "./out-link/new/dir", "./up-link", "./up-link/x"]) {
    await assert.rejects(
      workspaceVolumeHostPath(machine, source),
      (e: unknown) => isAirlockError(e, "MACHINE_PATH_ESCAPE"),
      source,
    );
  }
  assert.throws(() => statSync(path.join(outside, "new")));
  await assert.rejects(workspaceVolumeHostPath(machine, "named"), (e: unknown) =>
    isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
});
