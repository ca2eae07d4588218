// The log hub: live chunks reach subscribers; a wait for a job's end is released by the job
// finishing, by shutdown, or by the follower going away (no waiter is left behind).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryLogHub } from "../../src/orchestrator/index.js";

describe("log hub", () => {
  it("delivers chunks to subscribers until they unsubscribe", () => {
    const hub = new MemoryLogHub(() => Promise.resolve(false));
    const got: string[] = [];
    const off = hub.subscribe(7, (c) => got.push(c.data));
    hub.publish({ jobId: 7, attempt: 1, seq: 1, data: "a\n", source: "step" });
    hub.publish({ jobId: 8, attempt: 1, seq: 1, data: "other job\n", source: "step" });
    off();
    hub.publish({ jobId: 7, attempt: 1, seq: 2, data: "b\n", source: "step" });
    assert.deepEqual(got, ["a\n"]);
  });

  it("releases a wait when the job ends, when the follower leaves, and at shutdown", async () => {
    const hub = new MemoryLogHub(() => Promise.resolve(false));
    const ended = hub.whenJobDone(1);
    hub.jobDone(1);
    await ended;
    const follower = new AbortController();
    const left = hub.whenJobDone(2, follower.signal);
    follower.abort();
    await left;
    const shutdown = hub.whenJobDone(3);
    hub.close();
    await shutdown;
    await hub.whenJobDone(4); // closed: answers at once
  });
});
