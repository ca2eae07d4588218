// What `airlock audit list` prints of attacker-chosen strings: no control, C1 or bidirectional
// formatting character reaches the terminal raw; plain text is unchanged.
import assert from "node:assert/strict";
import { it } from "node:test";
import { printable } from "../../src/cli/commands/audit.js";

it("escapes control, C1, zero-width and bidi characters, and nothing else", () => {
  assert.equal(printable("a\u202eb\u009bc\u0007d\u200be"), "a\\u202eb\\u009bc\\u0007d\\u200be");
  const plain = 'name: "acme/app", ünïcödé ✓ 日本';
  assert.equal(printable(plain), plain);
});
