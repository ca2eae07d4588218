// A node's operator name (`nodes register-token --operator`, `nodes set-worker --operator`):
// corroboration tells operators apart by it, compared without case or repeated spaces, so a name
// of spaces only (which reads as no name at all) is refused like control characters.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SetNodeWorker } from "../../src/server/schemas.js";

describe("operator names", () => {
  it("refuses a name of spaces only and control characters, takes printable text", () => {
    assert.equal(SetNodeWorker.safeParse({ workerTrust: "trusted", operator: "Alice's lab" }).success, true);
    assert.equal(SetNodeWorker.safeParse({ workerTrust: "trusted", operator: null }).success, true);
    for (const bad of ["", "   ", "\t", "a\u001b[31m"]) {
      const r = SetNodeWorker.safeParse({ workerTrust: "untrusted", operator: bad });
      assert.equal(r.success, false, JSON.stringify(bad));
    }
    const blank = SetNodeWorker.safeParse({ workerTrust: "untrusted", operator: "   " });
    assert.match(JSON.stringify(blank.error?.issues), /cannot be only spaces/);
  });
});
