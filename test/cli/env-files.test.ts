// The dotenv-style files of `airlock run` (.secrets, .vars, .env, .input): values as the dotenv
// package reads them (quotes, escapes, multi-line values, `export`, comments), a malformed line
// refused with file:line and never its text, defaults read only when present, options on top.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { INPUT_NAME, localValues, parseEnvFile, readEnvFileOption } from "../../src/cli/env-files.js";
import { localSecrets } from "../../src/cli/local-secrets.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "airlock-env-files-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The USAGE message of a refused parse. */
function refusal(text: string, names?: RegExp): string {
  try {
    parseEnvFile(text, "f.env", names);
  } catch (err) {
    assert.ok(isAirlockError(err, "USAGE"), String(err));
    return err.message;
  }
  assert.fail("expected a refusal");
}

describe("parseEnvFile", () => {
  it("reads values as dotenv does", () => {
    const text = [
      "# a comment",
      "",
      "export EXPORTED=1",
      "PLAIN=two words  # trailing comment",
      "SINGLE='kept # as is \\n'",
      'DOUBLE="a\\nb"',
      'MULTI="first',
      "second",
      '  third"',
      "BACKTICK=`x 'y' \"z\"`",
      "EMPTY=",
      "  SPACED = around  ",
      "YAMLISH: colon",
      "HASH=abc#def",
      "AFTER=last",
    ].join("\n");
    assert.deepEqual(parseEnvFile(text, "f.env"), {
      EXPORTED: "1",
      PLAIN: "two words",
      SINGLE: "kept # as is \\n",
      DOUBLE: "a\nb",
      MULTI: "first\nsecond\n  third",
      BACKTICK: `x 'y' "z"`,
      EMPTY: "",
      SPACED: "around",
      YAMLISH: "colon",
      HASH: "abc",
      AFTER: "last",
    });
  });

  it("takes CRLF line ends and a byte-order mark", () => {
    assert.deepEqual(parseEnvFile('\uFEFFA=1\r\nB="x\r\ny"\r\n', "f.env"), { A: "1", B: "x\ny" });
  });

  it("refuses a line that is not NAME=value, naming file and line, never the text", () => {
    const m = refusal("A=1\nthis-is-the-secret-text\n");
    assert.equal(m, "f.env:2: expected NAME=value");
    assert.doesNotMatch(m, /secret-text/);
  });

  it("refuses a quote never closed, at the line it opened, without the value", () => {
    const m = refusal('A=1\nB="hunter2\nmore\n');
    assert.equal(m, "f.env:2: the value's \" quote is never closed");
    assert.doesNotMatch(m, /hunter2/);
  });

  it("refuses text after a closing quote, at the line of the quote", () => {
    assert.equal(refusal('A="x\ny" hunter2\n'), "f.env:2: unexpected text after the closing quote");
  });

  it("checks names: environment names by default, input names may hold '-'", () => {
    assert.equal(
      refusal("my-input=1\n"),
      "f.env:1: not a valid name (letters, digits and _, not starting with a digit)",
    );
    // A token pasted without a name looks like NAME=value: its text is not repeated.
    assert.equal(
      refusal("dGhpcy1pcy1h-c2VjcmV0==\n"),
      "f.env:1: not a valid name (letters, digits and _, not starting with a digit)",
    );
    assert.equal(
      refusal("1X=1\n", INPUT_NAME),
      "f.env:1: not a valid name (letters, digits, - and _, not starting with a digit)",
    );
    assert.deepEqual(parseEnvFile("my-input=1\n", "f.env", INPUT_NAME), { "my-input": "1" });
  });
});

describe("files of options", () => {
  it("reads the default file only when it exists", async () => {
    assert.deepEqual(await readEnvFileOption(root, { flag: "--var-file", defaultName: ".vars" }), {
      values: {},
      usedDefault: false,
    });
    await writeFile(join(root, ".vars"), "V=1\n");
    const r = await readEnvFileOption(root, { flag: "--var-file", defaultName: ".vars" });
    assert.deepEqual(r.values, { V: "1" });
    assert.equal(r.usedDefault, true);
  });

  it("refuses a missing file an option names", async () => {
    await assert.rejects(
      readEnvFileOption(root, { given: join(root, "nope.env"), flag: "--env-file", defaultName: ".env" }),
      (e) => isAirlockError(e, "USAGE") && e.message === `--env-file ${join(root, "nope.env")}: no such file`,
    );
  });

  it("puts --var, --env and --input over their files, and reports the defaults read", async () => {
    await writeFile(join(root, ".vars"), "V=file\nW=file\n");
    await writeFile(join(root, ".env"), "E=file\nF=file\n");
    await writeFile(join(root, "in.txt"), "greeting=file\nwho-am-i=file\n");
    const v = await localValues(root, {
      inputFile: join(root, "in.txt"),
      var: ["W=flag"],
      env: ["F=flag"],
      input: ["greeting=flag"],
    });
    assert.deepEqual(v.vars, { V: "file", W: "flag" });
    assert.deepEqual(v.env, { E: "file", F: "flag" });
    assert.deepEqual(v.inputs, { greeting: "flag", "who-am-i": "file" });
    assert.deepEqual(v.defaultsRead, [".vars", ".env"]);
  });

  it("refuses a bad name given with --env", async () => {
    await assert.rejects(
      localValues(root, { var: [], env: ["A-B=1"], input: [] }),
      (e) => isAirlockError(e, "USAGE") && /^--env A-B: not a valid name$/.test(e.message),
    );
  });

  it("reads a secret file with dotenv syntax; a bad line names the file, not the secret", async () => {
    await writeFile(join(root, "s.env"), "export TOKEN=\"multi\nline\"\nKEY='v'\n");
    assert.deepEqual(await localSecrets({ root, secretFile: join(root, "s.env"), env: {} }), {
      GITHUB_TOKEN: "",
      TOKEN: "multi\nline",
      KEY: "v",
    });
    await writeFile(join(root, "bad.env"), "OK=1\nsupersecretvalue\n");
    await assert.rejects(
      localSecrets({ root, secretFile: join(root, "bad.env"), env: {} }),
      (e) => isAirlockError(e, "USAGE") && e.message === `${join(root, "bad.env")}:2: expected NAME=value`,
    );
  });
});
