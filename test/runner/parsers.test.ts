// Unit tests of the runner's pure pieces: env-file parsing (actions/runner FileCommandManager
// semantics), workflow-command parsing and escaping, shell templates. The masker's tests are in
// test/secrets/.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, isAirlockError } from "../../src/errors/index.js";
import { parseCommand, parseKeyValueFile, parsePathFile, shellTemplate } from "../../src/runner/index.js";

const known = (n: string): boolean => ["error", "warning", "add-mask", "set-output", "group"].includes(n);

void test("env files: NAME=value, heredocs, empty values, duplicates kept in order", () => {
  const text = "A=1\nB=x=y\n\nC<<EOF\nl1\nl2\nEOF\nD<<EOF\nEOF\nA=2\nE=\nF<<=\n=\n";
  assert.deepEqual(parseKeyValueFile(text, "env"), [
    { name: "A", value: "1" },
    { name: "B", value: "x=y" },
    { name: "C", value: "l1\nl2" },
    { name: "D", value: "" },
    { name: "A", value: "2" },
    { name: "E", value: "" },
    { name: "F", value: "" }, // heredoc before "=": delimiter "=", which ends it
  ]);
});

void test("env files: only \\n separates lines; a \\r stays part of names, values and delimiters", () => {
  assert.deepEqual(parseKeyValueFile("A=1\r\nB<<X\r\nv\r\nX\r\n", "env"), [
    { name: "A", value: "1\r" },
    { name: "B", value: "v\r" },
  ]);
  // The delimiter line may be the last line without a newline.
  assert.deepEqual(parseKeyValueFile("B<<X\nv\nX", "env"), [{ name: "B", value: "v" }]);
});

void test("env files: malformed content throws ENV_FILE_INVALID", () => {
  for (const bad of [
    "=v\n",
    "JUSTANAME\n",
    "N<<\n",
    "<<EOF\nx\nEOF\n",
    "N<<EOF\nno end\n",
    "N<<EOF\nno newline",
  ]) {
    assert.throws(
      () => parseKeyValueFile(bad, "env"),
      (e: unknown) => isAirlockError(e, ErrorCode.ENV_FILE_INVALID),
      JSON.stringify(bad),
    );
  }
});

void test("GITHUB_PATH: one entry per line, any line ending, blank lines ignored", () => {
  assert.deepEqual(parsePathFile("/a\r\n/b\n\n/c\r/d"), ["/a", "/b", "/c", "/d"]);
});

void test("workflow commands: name, properties and data with actions/runner escaping", () => {
  assert.deepEqual(parseCommand("::error file=a%2Cb.ts,line=3,title=x%3Ay::msg%0Aline2 100%25", known), {
    name: "error",
    properties: { file: "a,b.ts", line: "3", title: "x:y" },
    data: "msg\nline2 100%",
  });
  // Data keeps ":" and ","; "%250A" unescapes once, to "%0A".
  assert.equal(parseCommand("::warning::a:b,c %250A", known)?.data, "a:b,c %0A");
  // Leading whitespace and upper case are accepted; properties without value are ignored.
  assert.deepEqual(parseCommand("   ::WARNING k=,=v,ok=1::x", known), {
    name: "warning",
    properties: { ok: "1" },
    data: "x",
  });
});

void test("workflow commands: unknown names and malformed lines are plain text", () => {
  for (const line of ["::nope::x", "::error", "error::x", ":: error::x", "text ::error::x", "::::x"]) {
    assert.equal(parseCommand(line, known), undefined, line);
  }
});

void test("shell templates: built-ins, custom {0} templates, unsupported shells", () => {
  assert.deepEqual(shellTemplate(undefined), { programs: ["bash", "sh"], args: ["-e", "{0}"], ext: ".sh" });
  assert.deepEqual(shellTemplate("bash").args, ["--noprofile", "--norc", "-eo", "pipefail", "{0}"]);
  assert.deepEqual(shellTemplate("sh"), { programs: ["sh"], args: ["-e", "{0}"], ext: ".sh" });
  assert.equal(shellTemplate("python").ext, ".py");
  assert.deepEqual(shellTemplate('perl -w "{0}" --x'), {
    programs: ["perl"],
    args: ["-w", "{0}", "--x"],
    ext: "",
  });
  assert.equal(shellTemplate("bash -x {0}").ext, ".sh");
  for (const bad of ["pwsh", "powershell", "cmd", "perl", "{0}", "pwsh -c {0}"]) {
    assert.throws(
      () => shellTemplate(bad),
      (e: unknown) => isAirlockError(e, ErrorCode.SHELL_UNSUPPORTED),
      bad,
    );
  }
});
