// The blob routes' XML error bodies as the Azure SDK reads them: the message a job's log shows
// (e.g. a quota refusal naming "app" and "the repository's artifacts") comes out of
// @azure/core-xml's parser exactly as Airlock wrote it, quotes and markup characters included.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseXML } from "@azure/core-xml";
import { xmlText } from "../../src/server/routes/azure-blob.js";

const body = (message: string): string =>
  `<?xml version="1.0" encoding="utf-8"?><Error><Code>ARTIFACT_QUOTA_EXCEEDED</Code><Message>${xmlText(message)}</Message></Error>`;

describe("blob route XML errors", () => {
  it("round-trip through the Azure SDK's XML parser unchanged", async () => {
    for (const message of [
      `the repository's artifacts use 1326 bytes; "app" (255 bytes) would take it past its quota of 1400 bytes`,
      `a <b> & c's "d" </Message><Injected/>`,
      "plain",
    ]) {
      const parsed = (await parseXML(body(message))) as { Code: string; Message: string };
      assert.equal(parsed.Message, message);
      assert.equal(parsed.Code, "ARTIFACT_QUOTA_EXCEEDED");
    }
  });
});
