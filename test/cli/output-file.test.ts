// Where the CLI writes a download or a provenance file: a missing folder, an existing file or a
// folder in the way is one USAGE line naming the option and the path (no Node stack trace), and
// nothing is written; a good path is written as asked.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkOutputPath, writeNewFile } from "../../src/cli/output-file.js";
import { ErrorCode, isAirlockError } from "../../src/errors/index.js";

const dir = mkdtempSync(join(tmpdir(), "airlock-output-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function refused(p: Promise<unknown>, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAirlockError(err), String(err));
    assert.equal(err.code, ErrorCode.USAGE);
    assert.match(err.message, text);
    assert.ok(!err.message.includes("\n"));
    return true;
  });
}

describe("CLI output files", () => {
  it("writes a new file and refuses to overwrite one", async () => {
    const f = join(dir, "p.json");
    await writeNewFile(f, "{}", "--output");
    assert.equal(readFileSync(f, "utf8"), "{}");
    await refused(
      writeNewFile(f, "[]", "--output"),
      /^--output .*p\.json: cannot write there \(it exists already\)$/,
    );
    assert.equal(readFileSync(f, "utf8"), "{}");
  });

  it("says when the folder is missing or is a file", async () => {
    await refused(writeNewFile(join(dir, "nope", "p.json"), "{}", "--output"), /its folder does not exist/);
    await refused(
      checkOutputPath(join(dir, "nope", "x.zip"), "--output", false),
      /^--output .*: cannot write there \(its folder does not exist\)$/,
    );
    writeFileSync(join(dir, "file"), "x");
    await refused(checkOutputPath(join(dir, "file", "x"), "--extract", true), /not a folder/);
  });

  it("refuses an --extract destination that exists before anything is downloaded", async () => {
    mkdirSync(join(dir, "out"));
    await refused(
      checkOutputPath(join(dir, "out"), "--extract", true),
      /^--extract .*out: cannot write there \(it exists already\)$/,
    );
    await refused(
      checkOutputPath(join(dir, "out"), "--output", false),
      /^--output .*out: cannot write there \(it is a folder\)$/,
    );
    await checkOutputPath(join(dir, "new"), "--extract", true);
    await checkOutputPath(join(dir, "out.zip"), "--output", false);
  });
});
