// parseUses / isCheckoutAction: the shapes of `uses:` and the refusal of suspicious names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isCheckoutAction, parseUses } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";

void test("parses remote, nested remote, local and docker references", () => {
  assert.deepEqual(parseUses("actions/setup-node@v4"), {
    kind: "remote",
    owner: "actions",
    repo: "setup-node",
    path: "",
    ref: "v4",
  });
  assert.deepEqual(parseUses("octo-org/tools/lint/js@release/1.2"), {
    kind: "remote",
    owner: "octo-org",
    repo: "tools",
    path: "lint/js",
    ref: "release/1.2",
  });
  assert.deepEqual(parseUses("./.github/actions/build"), { kind: "local", path: ".github/actions/build" });
  assert.deepEqual(parseUses("./"), { kind: "local", path: "." });
  assert.deepEqual(parseUses("./a/../b/"), { kind: "local", path: "b" });
  assert.deepEqual(parseUses("docker://alpine:3.20"), { kind: "docker", image: "alpine:3.20" });
});

void test("refuses suspicious references with ACTION_INVALID", () => {
  const bad = [
    "actions/checkout", // no ref
    "actions/checkout@", // empty ref
    "actions/checkout@-uupload-pack=touch /tmp/x",
    "actions/checkout@--upload-pack=x",
    "actions/checkout@v1..v2",
    "actions/checkout@refs//heads",
    "actions/checkout@v1.lock",
    "actions/checkout@v1 ",
    "actions/checkout@v1;rm",
    "actions/checkout@$(id)",
    "actions/checkout@v1@v2",
    "-actions/checkout@v1",
    "actions/../checkout@v1",
    "actions/./x@v1",
    "actions/checkout/../../x@v1",
    "actions/checkout//x@v1",
    "actions@v1",
    "./../outside",
    "./a/../../outside",
    "../outside",
    "a\\b/c@v1",
    "docker://",
    "docker://-x",
    "",
  ];
  for (const uses of bad) {
    assert.throws(
      () => parseUses(uses),
      (err) => isAirlockError(err, "ACTION_INVALID"),
      uses,
    );
  }
});

void test("parses full SHAs and hex refs (a short SHA is refused only at fetch: it may name a tag)", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  assert.equal((parseUses(`o/r@${sha}`) as { ref: string }).ref, sha);
  assert.equal((parseUses("o/r@0123abc") as { ref: string }).ref, "0123abc");
});

void test("isCheckoutAction matches actions/checkout at any ref, case-insensitively", () => {
  assert.equal(isCheckoutAction("actions/checkout@v4"), true);
  assert.equal(isCheckoutAction("Actions/Checkout@main"), true);
  assert.equal(isCheckoutAction("actions/checkout-extra@v1"), false);
  assert.equal(isCheckoutAction("other/checkout@v4"), false);
  assert.equal(isCheckoutAction("./actions/checkout"), false);
});
