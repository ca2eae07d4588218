// The outbox in-process: the dropped-lines marker once acks free room, compaction of a long-running
// job's file as acks arrive (it stays loadable), and removal once everything of a job is acked.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { Outbox } from "../../src/agent/outbox.js";
import { loadOutboxFiles } from "../../src/agent/outbox-file.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir("airlock-agent-outbox-");
after(() => tmp.remove());

const log = (text: string) =>
  ({ type: "event", event: { type: "log", stream: "stdout", kind: "line", text } }) as const;

describe("agent outbox", () => {
  it("the marker goes in once acks free room, before the next line", () => {
    const outbox = new Outbox({ dataDir: `${tmp.dir}/unit`, maxBytes: 400, isRunning: () => true });
    const sent: string[] = [];
    outbox.connected((l) => sent.push(l), new Map());
    for (let i = 1; i <= 10; i++) outbox.push(1, 0, log(`l${i}`));
    const kept = sent.length;
    assert.ok(kept > 0 && kept < 10);
    outbox.push(1, 0, { type: "event", event: { type: "step-started", at: 1 } });
    assert.equal(sent.length, kept + 1, "a step event goes in past the bound, without the marker");
    outbox.ack(1, 0, kept + 1);
    outbox.push(1, 0, log("after"));
    const texts = sent.map((l) => JSON.parse(l) as { seq: number; event: { text?: string } });
    assert.match(texts.at(-2)?.event.text ?? "", new RegExp(`${10 - kept} lines dropped`));
    assert.equal(texts.at(-1)?.event.text, "after");
    assert.deepEqual(
      texts.map((t) => t.seq),
      texts.map((_, i) => i + 1),
    );
    outbox.close();
  });

  it("compacts a running job's file as acks arrive; what remains loads back in order", () => {
    const dataDir = `${tmp.dir}/compact`;
    const outbox = new Outbox({ dataDir, maxBytes: 64 * 1024 * 1024, isRunning: () => true });
    const file = `${dataDir}/outbox/2-0.jsonl`;
    const line = "x".repeat(1000);
    for (let i = 1; i <= 3000; i++) outbox.push(2, 0, log(`${i} ${line}`));
    const full = statSync(file).size;
    outbox.ack(2, 0, 2990);
    assert.ok(statSync(file).size < full / 10, "acked output is compacted away");
    outbox.push(2, 0, log("3001"));
    outbox.close();
    const [loaded, ...more] = loadOutboxFiles(dataDir);
    assert.equal(more.length, 0);
    assert.deepEqual(
      loaded!.unsent().map((e) => e.seq),
      Array.from({ length: 11 }, (_, i) => 2991 + i),
    );
  });

  it("removes a job's file once its finished message is acked", () => {
    const dataDir = `${tmp.dir}/remove`;
    const outbox = new Outbox({ dataDir, maxBytes: 1024 * 1024, isRunning: () => true });
    outbox.push(3, 1, log("a"));
    outbox.push(3, 1, { type: "finished", result: { conclusion: "success" } });
    outbox.ack(3, 1, 1);
    assert.ok(existsSync(`${dataDir}/outbox/3-1.jsonl`));
    assert.ok(outbox.isFinished(3, 1));
    outbox.ack(3, 1, 2);
    assert.ok(!existsSync(`${dataDir}/outbox/3-1.jsonl`));
    assert.equal(outbox.totalBytes(), 0);
  });
});
