// Building with the real mmdebstrap, kept small (the `extract` variant with one package, ~20 s):
// two builds of the same inputs at once give the same digest (reproducible tarball, one rootfs)
// and the runner user; then list → resolve → remove. Bad inputs are refused before mmdebstrap
// runs, and what a user gives reaches mmdebstrap as whole argv elements, never a shell string.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAirlockError } from "../../src/errors/index.js";
import { buildImage, findMmdebstrap, mmdebstrapArgs } from "../../src/images/index.js";
import { tempStore } from "../helpers/images.js";

const t = tempStore();
after(() => t.remove());
const store = t.store;

describe("image build (mmdebstrap)", () => {
  it("builds reproducibly: the same inputs twice at once give one digest, with the runner user", async () => {
    assert.ok(findMmdebstrap(), "mmdebstrap is installed (scripts/ensure-system.sh)");
    const req = { packages: ["busybox"], suite: "bookworm", variant: "extract" as const };
    const [a, b] = await Promise.all([
      buildImage(store, { ...req, name: "bb-a" }),
      buildImage(store, { ...req, name: "bb-b" }),
    ]);
    assert.equal(a.image.digest, b.image.digest, "same inputs, same digest");
    assert.match(a.image.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(readdirSync(join(store.dir, "rootfs")), [a.image.digest.slice(7)]);
    assert.deepEqual(readdirSync(join(store.dir, "tmp")), [], "no build leftovers");
    const root = a.image.rootfs;
    assert.ok(existsSync(join(root, "bin/busybox")) || existsSync(join(root, "usr/bin/busybox")));
    assert.match(
      readFileSync(join(root, "etc/passwd"), "utf8"),
      /^runner:x:1001:1001:[^:]*:\/home\/runner:\/bin\/bash$/m,
    );
    assert.match(readFileSync(join(root, "etc/group"), "utf8"), /^runner:x:1001:$/m);
    const home = statSync(join(root, "home/runner"));
    assert.ok(home.isDirectory());
    if (process.getuid?.() === 0) assert.deepEqual([home.uid, home.gid], [1001, 1001]);
    assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), "airlock\n");
    assert.equal(readFileSync(join(root, "etc/resolv.conf"), "utf8"), "");

    assert.deepEqual(
      store.list().map((i) => [i.name, i.digest, i.variant, i.packages]),
      [
        ["bb-a", a.image.digest, "extract", ["busybox"]],
        ["bb-b", a.image.digest, "extract", ["busybox"]],
      ],
    );
    assert.equal(store.resolve("bb-b")?.rootfs, root);
    await store.remove("bb-a");
    assert.ok(existsSync(root), "bb-b still names it");
    await store.remove("bb-b");
    assert.ok(!existsSync(root));
    assert.deepEqual(store.list(), []);
  });

  it("refuses bad package names, suites and variants before running anything", async () => {
    const before = existsSync(join(store.dir, "tmp")) ? readdirSync(join(store.dir, "tmp")) : [];
    const bad = [
      { packages: ["bash", "$(touch /tmp/pwned)"], suite: "bookworm", variant: "apt" },
      { packages: ["--allow-unauthenticated"], suite: "bookworm", variant: "apt" },
      { packages: ["a,b"], suite: "bookworm", variant: "apt" },
      { packages: ["Bash"], suite: "bookworm", variant: "apt" },
      { packages: [], suite: "bookworm; id", variant: "apt" },
      { packages: [], suite: "bookworm", variant: "--help" },
    ];
    for (const b of bad) {
      await assert.rejects(
        buildImage(store, { name: "ok", ...b, variant: b.variant as "apt" }),
        (e) => isAirlockError(e, "IMAGE_INVALID"),
        JSON.stringify(b),
      );
    }
    await assert.rejects(
      buildImage(store, { name: "-x", packages: [], suite: "bookworm", variant: "apt" }),
      (e) => isAirlockError(e, "IMAGE_INVALID"),
    );
    const afterwards = existsSync(join(store.dir, "tmp")) ? readdirSync(join(store.dir, "tmp")) : [];
    assert.deepEqual(afterwards, before);
    assert.ok(!existsSync("/tmp/pwned"));
  });

  it("passes what the user gave as argv elements after a --", () => {
    const argv = mmdebstrapArgs(
      { name: "n", packages: ["bash", "git"], suite: "bookworm", variant: "apt" },
      "/out/image.tar",
    );
    const dashdash = argv.indexOf("--");
    assert.deepEqual(argv.slice(dashdash), ["--", "bookworm", "/out/image.tar"]);
    assert.ok(argv.includes("--include=bash,git"));
    assert.ok(argv.includes("--variant=apt"));
  });
});
