// Test helpers for webhook tests: fixture files, signed requests per provider, and the real
// GitHub payloads from @octokit/webhooks-examples.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Provider, WebhookRequest } from "../../src/sources/index.js";

export const SECRET = "test-webhook-secret";
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export function fixture(name: string): Buffer {
  return readFileSync(join(fixtures, name));
}

export function hmacHex(body: Buffer | string, secret = SECRET): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** A request as each provider would send it, signed with `secret`. */
export function signed(
  provider: Provider,
  event: string,
  body: Buffer | string,
  opts: { secret?: string; delivery?: string; headers?: Record<string, string> } = {},
): WebhookRequest {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const secret = opts.secret ?? SECRET;
  const delivery = opts.delivery ?? "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  const sig = hmacHex(rawBody, secret);
  const byProvider: Record<Provider, Record<string, string>> = {
    github: {
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-hub-signature-256": `sha256=${sig}`,
    },
    gitlab: { "x-gitlab-event": event, "x-gitlab-event-uuid": delivery, "x-gitlab-token": secret },
    gitea: { "x-gitea-event": event, "x-gitea-delivery": delivery, "x-gitea-signature": sig },
    bitbucket: { "x-event-key": event, "x-request-uuid": delivery, "x-hub-signature": `sha256=${sig}` },
  };
  return {
    headers: { "content-type": "application/json", ...byProvider[provider], ...opts.headers },
    rawBody,
  };
}

interface WebhookDefinition {
  name: string;
  examples: Array<Record<string, unknown>>;
}

/** Every example payload of a GitHub event from @octokit/webhooks-examples. */
export function githubExamples(name: string): Array<Record<string, unknown>> {
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as WebhookDefinition[];
  const def = all.find((d) => d.name === name);
  if (!def) throw new Error(`no examples for ${name}`);
  return def.examples;
}
