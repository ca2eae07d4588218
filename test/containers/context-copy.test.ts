// copyContext: the private copy of a Docker action's build context (files, folders, symlinks kept
// as symlinks, special files left out), refused when it leads out of the machine or is too large,
// each file read up to the size it was measured at, symlinked ignore files refused.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, it } from "node:test";
import { copyContext } from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "airlock-ctx-")));
after(() => rmSync(base, { recursive: true, force: true }));
const machine = path.join(base, "machine");
const ws = path.join(machine, "ws");
mkdirSync(path.join(ws, "action", "sub"), { recursive: true });
writeFileSync(path.join(ws, "action", "Dockerfile"), "FROM scratch\n");
writeFileSync(path.join(ws, "action", "sub", "run.sh"), "echo hi\n", { mode: 0o755 });
symlinkSync("/etc/passwd", path.join(ws, "action", "passwd-link"));
symlinkSync("sub", path.join(ws, "action", "dir-link"));
execFileSync("mkfifo", [path.join(ws, "action", "fifo")]);
mkdirSync(path.join(base, "host-secret"));
writeFileSync(path.join(base, "host-secret", "key"), "secret\n");
symlinkSync(path.join(base, "host-secret"), path.join(ws, "escape"));

let n = 0;
const dest = (): string => path.join(base, `out-${++n}`);

it("copies files and folders, keeps symlinks as symlinks (never their targets), leaves FIFOs out", async () => {
  const out = dest();
  await copyContext(path.join(ws, "action"), out, [ws]);
  assert.equal(readFileSync(path.join(out, "Dockerfile"), "utf8"), "FROM scratch\n");
  assert.equal(readFileSync(path.join(out, "sub", "run.sh"), "utf8"), "echo hi\n");
  assert.equal(lstatSync(path.join(out, "sub", "run.sh")).mode & 0o777, 0o755);
  assert.equal(readlinkSync(path.join(out, "passwd-link")), "/etc/passwd");
  assert.ok(lstatSync(path.join(out, "dir-link")).isSymbolicLink());
  assert.ok(!existsSync(path.join(out, "fifo")));
});

it("refuses a context that leads out of the machine, through a symlink anywhere on its path", async () => {
  for (const src of [path.join(ws, "escape"), path.join(base, "host-secret")]) {
    const out = dest();
    await assert.rejects(
      copyContext(src, out, [ws]),
      (e: unknown) =>
        isAirlockError(e, "MACHINE_PATH_ESCAPE") || (e as NodeJS.ErrnoException).code === "ELOOP",
    );
    assert.ok(!existsSync(path.join(out, "key")), "nothing of the host copied");
  }
});

it("is bounded in entries and bytes", async () => {
  await assert.rejects(
    copyContext(path.join(ws, "action"), dest(), [ws], { maxBytes: 1 << 20, maxEntries: 2 }),
    (e: unknown) => isAirlockError(e, "ACTION_INVALID") && /entries/.test(e.message),
  );
  await assert.rejects(
    copyContext(path.join(ws, "action"), dest(), [ws], { maxBytes: 5, maxEntries: 100 }),
    (e: unknown) => isAirlockError(e, "ACTION_INVALID") && /larger/.test(e.message),
  );
});

it("reads each file up to the size it measured: a file the job grows meanwhile is cut there", async () => {
  const ctx = path.join(ws, "grow");
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, "log.txt"), "12345");
  const out = dest();
  let grown = 0;
  // Between the stat and the read, 8 MiB more: far over the context's 1 KiB budget if it were read.
  await copyContext(
    path.join(ws, "grow"),
    out,
    [ws],
    { maxBytes: 1024, maxEntries: 10 },
    {
      afterStat: (name) => {
        if (name !== "./log.txt") return;
        appendFileSync(path.join(ctx, "log.txt"), Buffer.alloc(8 << 20, 0x41));
        grown++;
      },
    },
  );
  assert.equal(grown, 1);
  assert.equal(readFileSync(path.join(out, "log.txt"), "utf8"), "12345");
});

it("refuses a symlinked .dockerignore / .containerignore (the builder reads it on the host); copies real ones", async () => {
  for (const name of [".dockerignore", ".containerignore", "Dockerfile.dockerignore", "sub/.dockerignore"]) {
    const ctx = mkdtempSync(path.join(ws, "ign-"));
    mkdirSync(path.join(ctx, "sub"));
    symlinkSync("/etc/passwd", path.join(ctx, name));
    const out = dest();
    await assert.rejects(
      copyContext(ctx, out, [ws]),
      (e: unknown) =>
        isAirlockError(e, "MACHINE_PATH_ESCAPE") &&
        /ignore is a symlink/.test(e.message) &&
        !e.message.includes("\n"),
      name,
    );
  }
  const ctx = mkdtempSync(path.join(ws, "ign-"));
  writeFileSync(path.join(ctx, ".dockerignore"), "node_modules\n");
  const out = dest();
  await copyContext(ctx, out, [ws]);
  assert.equal(readFileSync(path.join(out, ".dockerignore"), "utf8"), "node_modules\n");
});
