// The README's tour puts the checkout's bin/ on PATH and types `airlock`: that command must exist
// and run the CLI (also through a symlink, as a package manager would install it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin");
const dir = mkdtempSync(join(tmpdir(), "airlock-launcher-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("the airlock command", () => {
  it("runs from the checkout's bin/ on PATH", () => {
    const out = execFileSync("sh", ["-c", "airlock --help"], {
      cwd: dir,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      encoding: "utf8",
    });
    assert.match(out, /^Usage: airlock /);
  });

  it("runs through a symlink", () => {
    symlinkSync(join(bin, "airlock"), join(dir, "airlock"));
    assert.match(execFileSync(join(dir, "airlock"), ["--help"], { encoding: "utf8" }), /^Usage: airlock /);
  });
});
