// Container provisioner units: which registry a job container's image may come from, and how often a
// service's health check runs: at the container's interval, which podman prints as a
// Go duration (siblings.ts). A misread interval would poll every few milliseconds and use up a slow
// starter's `--health-retries` in a second.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { ensureWorkflowImage } from "../../src/provisioners/container/registry.js";
import { Podman, writeContainersConf } from "../../src/provisioners/container/podman.js";
import { goDurationMs } from "../../src/provisioners/container/siblings.js";

void test("Go durations as podman prints them", () => {
  assert.equal(goDurationMs("2.5s"), 2500);
  assert.equal(goDurationMs("1m30s"), 90_000);
  assert.equal(goDurationMs("500ms"), 500);
  assert.equal(goDurationMs("1h0m0s"), 3_600_000);
  assert.equal(goDurationMs("0s"), 0);
  for (const bad of ["", "10", "5 s", "1s;rm", "-1s"]) assert.equal(goDurationMs(bad), 0, bad);
});

void test(
  "a job container's image is pulled only from the node's registry, never from a host the name picks",
  { skip: process.getuid?.() === 0 ? false : "needs root (rootful podman)" },
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-reg-"));
    try {
      const conf = path.join(dir, "containers.conf");
      writeContainersConf(conf);
      const podman = new Podman("podman", conf);
      const registry = { address: "registry.internal:5000/ci" };
      for (const image of ["evil.example/x:1", "10.0.0.5:5000/x", "registry.internal:5000/other/x:1"]) {
        await assert.rejects(
          ensureWorkflowImage(podman, image, registry),
          (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED") && /other than this node's/.test(e.message),
          image,
        );
      }
      // localhost/ names are the node's own images: local storage only, never pulled.
      await assert.rejects(
        ensureWorkflowImage(podman, "localhost/not-here:1", registry),
        (e) => isAirlockError(e, "MACHINE_FAILED") && /local podman storage/.test(e.message),
      );
      // Without a registry nothing is pulled at all.
      await assert.rejects(ensureWorkflowImage(podman, "library/not-here:1", undefined), (e) =>
        isAirlockError(e, "MACHINE_FAILED"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
