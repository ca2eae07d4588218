// `airlock image` and the roots of `airlock run`, through the real binary on a private store
// (AIRLOCK_IMAGES_DIR): bad names and packages → one line, exit code 2, nothing changed; import →
// list → remove, refused while another process holds the image; `airlock run` without the default
// image says how to build it; -P label=<image name> runs those jobs on that image; --host-root warns.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore } from "../../src/images/index.js";
import { makeTarball } from "../helpers/images.js";
import { makeRepo, runAirlock } from "../helpers/repo.js";
import { buildTinyRootfs } from "../helpers/rootfs.js";

const dir = mkdtempSync(join(tmpdir(), "airlock-image-cli-"));
chmodSync(dir, 0o755); // the sandbox's unprivileged user walks down to the store's rootfs folders
const storeDir = join(dir, "store");
const env = { AIRLOCK_IMAGES_DIR: storeDir };
after(() => rmSync(dir, { recursive: true, force: true }));

/** `airlock run` first says what it runs (the working tree): that line is not the error. */
const withoutTreeLine = (s: string): string => s.replace(/^airlock: running the working tree .*\n/m, "");

const oneLine = (s: string): void => {
  assert.equal(s.trim().split("\n").length, 1, s);
  assert.match(s, /^airlock: /);
};

describe("airlock image", () => {
  it("refuses bad image names and package names with exit code 2 and one line", async () => {
    const cases = [
      ["image", "build", "x;touch /tmp/airlock-pwned"],
      ["image", "build", "--", "-rf"],
      ["image", "build", "ok", "--packages", "bash,$(touch /tmp/airlock-pwned)"],
      ["image", "build", "ok", "--packages", "bash", "--packages", "-oAPT::x=1"],
      ["image", "build", "ok", "--suite", "bookworm main"],
      ["image", "remove", "../../etc"],
      ["image", "import", "a/b", "/dev/null"],
    ];
    for (const args of cases) {
      const r = await runAirlock(dir, args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      oneLine(r.stderr);
    }
    assert.ok(!existsSync(storeDir), "nothing was created");
    assert.ok(!existsSync("/tmp/airlock-pwned"));
  });

  it("imports, lists and removes; removal is refused while another process uses the image", async () => {
    const t = makeTarball({ "etc/os-release": "ID=tiny\n" });
    try {
      const imp = await runAirlock(dir, ["image", "import", "tiny", t.file], env);
      assert.equal(imp.code, 0, imp.stderr);
      const list = await runAirlock(dir, ["image", "list", "--json"], env);
      const images = JSON.parse(list.stdout) as Array<{ name: string; digest: string }>;
      assert.deepEqual(
        images.map((i) => i.name),
        ["tiny"],
      );
      const table = await runAirlock(dir, ["image", "list"], env);
      assert.match(table.stdout, /^NAME\s+DIGEST/);
      assert.match(table.stdout, /^tiny\s+sha256:/m);

      // This test process holds it, as a running machine would.
      const lease = new ImageStore(storeDir).acquire("tiny");
      const refused = await runAirlock(dir, ["image", "remove", "tiny"], env);
      assert.equal(refused.code, 1);
      oneLine(refused.stderr);
      assert.match(refused.stderr, /in use/);
      assert.ok(existsSync(lease.rootfs));
      lease.release();
      const removed = await runAirlock(dir, ["image", "remove", "tiny"], env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Image tiny removed/);
      const missing = await runAirlock(dir, ["image", "remove", "tiny"], env);
      assert.equal(missing.code, 1);
      oneLine(missing.stderr);
    } finally {
      t.remove();
    }
  });
});

describe("airlock run: roots", () => {
  const repo = makeRepo({
    ".github/workflows/w.yml": `on: push
jobs:
  tiny:
    runs-on: [self-hosted, tiny]
    steps:
      - run: cat /etc-marker
`,
  });
  after(() => repo.remove());

  it("without the default image: one line saying how to build it, nothing runs", async () => {
    const empty = { AIRLOCK_IMAGES_DIR: join(dir, "empty-store") };
    const r = await runAirlock(repo.dir, ["run"], empty);
    assert.equal(r.code, 1);
    oneLine(withoutTreeLine(r.stderr));
    assert.match(r.stderr, /airlock image build debian-12/);
  });

  it("-P label=<image name> runs the job on that image from the store; --host-root warns", async () => {
    const rootfs = join(dir, "tiny-rootfs");
    await buildTinyRootfs(rootfs, ["/bin/sh", "/usr/bin/cat"]);
    writeFileSync(join(rootfs, "etc-marker"), "inside-the-named-image\n");
    const tar = join(dir, "tiny.tar");
    execFileSync("tar", ["--create", "--file", tar, "--directory", rootfs, "."]);
    const imp = await runAirlock(dir, ["image", "import", "tiny-sh", tar], env);
    assert.equal(imp.code, 0, imp.stderr);
    // The default image is not in this store: --host-root opts in for the other jobs (none here).
    const r = await runAirlock(repo.dir, ["run", "--json", "--host-root", "-P", "tiny=tiny-sh"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes("| inside-the-named-image"), r.stderr);
    assert.match(r.stderr, /warning: --host-root/);
    const unknown = await runAirlock(repo.dir, ["run", "--host-root", "-P", "tiny=nope"], env);
    assert.equal(unknown.code, 1);
    oneLine(withoutTreeLine(unknown.stderr.replace(/^.*warning: --host-root.*\n/m, "")));
    assert.match(unknown.stderr, /no image "nope"/);
  });
});
