// Webhook signature verification: GitHub's documented known-answer test, and for every provider
// a good signature accepted and wrong, missing, truncated, duplicated or oversized ones refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  MAX_WEBHOOK_BODY_BYTES,
  PROVIDERS,
  verifyWebhook,
  type Provider,
  type WebhookRequest,
} from "../../src/sources/index.js";
import { SECRET, signed } from "./helpers.js";

const unauthorized = (e: unknown): boolean => isAirlockError(e, "WEBHOOK_UNAUTHORIZED");
const BODY = '{"zen":"Keep it logically awesome."}';

// The signature header of each provider, to tamper with.
const SIG_HEADER: Record<Provider, string> = {
  github: "x-hub-signature-256",
  gitlab: "x-gitlab-token",
  gitea: "x-gitea-signature",
  bitbucket: "x-hub-signature",
};

function without(req: WebhookRequest, name: string): WebhookRequest {
  const headers = { ...req.headers };
  delete headers[name];
  return { ...req, headers };
}

function withHeader(req: WebhookRequest, name: string, value: string | string[]): WebhookRequest {
  return { ...req, headers: { ...req.headers, [name]: value } };
}

void test("GitHub's documented known-answer signature verifies", () => {
  // docs.github.com "Validating webhook deliveries": test values.
  const req: WebhookRequest = {
    headers: {
      "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    },
    rawBody: Buffer.from("Hello, World!"),
  };
  assert.doesNotThrow(() => verifyWebhook("github", req, "It's a Secret to Everybody"));
  assert.throws(() => verifyWebhook("github", req, "It's a Secret to Everybody!"), unauthorized);
  const tampered = { ...req, rawBody: Buffer.from("Hello, World?") };
  assert.throws(() => verifyWebhook("github", tampered, "It's a Secret to Everybody"), unauthorized);
});

for (const provider of PROVIDERS) {
  void test(`${provider}: a correctly signed delivery verifies, header names in any case`, () => {
    const req = signed(provider, "push", BODY);
    assert.doesNotThrow(() => verifyWebhook(provider, req, SECRET));
    const upper = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toUpperCase(), v]));
    assert.doesNotThrow(() => verifyWebhook(provider, { ...req, headers: upper }, SECRET));
  });

  void test(`${provider}: wrong secret, altered body, missing signature are refused`, () => {
    const req = signed(provider, "push", BODY);
    assert.throws(() => verifyWebhook(provider, req, "another-secret"), unauthorized);
    const altered = { ...req, rawBody: Buffer.from(BODY.replace("awesome", "Awesome")) };
    // GitLab's shared token does not cover the body (a known property of X-Gitlab-Token).
    if (provider === "gitlab") assert.doesNotThrow(() => verifyWebhook(provider, altered, SECRET));
    else assert.throws(() => verifyWebhook(provider, altered, SECRET), unauthorized);
    assert.throws(() => verifyWebhook(provider, without(req, SIG_HEADER[provider]), SECRET), unauthorized);
    assert.throws(
      () => verifyWebhook(provider, withHeader(req, SIG_HEADER[provider], ""), SECRET),
      unauthorized,
    );
  });

  void test(`${provider}: truncated, malformed or repeated signatures are refused`, () => {
    const req = signed(provider, "push", BODY);
    const good = req.headers[SIG_HEADER[provider]] as string;
    for (const bad of [
      good.slice(0, -1),
      good.slice(0, -2),
      good + "0",
      good.toUpperCase() + "zz",
      good + " ",
    ]) {
      assert.throws(
        () => verifyWebhook(provider, withHeader(req, SIG_HEADER[provider], bad), SECRET),
        unauthorized,
        bad,
      );
    }
    assert.throws(
      () => verifyWebhook(provider, withHeader(req, SIG_HEADER[provider], [good, good]), SECRET),
      unauthorized,
    );
  });

  void test(`${provider}: an empty configured secret never verifies`, () => {
    const req = signed(provider, "push", BODY, { secret: "" });
    assert.throws(() => verifyWebhook(provider, req, ""), unauthorized);
  });

  void test(`${provider}: a body over the cap is refused before hashing`, () => {
    const req = signed(provider, "push", Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20));
    assert.throws(
      () => verifyWebhook(provider, req, SECRET),
      (e) => isAirlockError(e, "WEBHOOK_TOO_LARGE"),
    );
  });
}

void test("GitHub: the legacy sha1 header alone is not accepted", () => {
  const req = without(signed("github", "push", BODY), "x-hub-signature-256");
  assert.throws(
    () => verifyWebhook("github", withHeader(req, "x-hub-signature", "sha1=abc"), SECRET),
    unauthorized,
  );
});

void test("GitHub: a signature without the sha256= prefix is refused", () => {
  const req = signed("github", "push", BODY);
  const bare = (req.headers["x-hub-signature-256"] as string).slice("sha256=".length);
  assert.throws(
    () => verifyWebhook("github", withHeader(req, "x-hub-signature-256", bare), SECRET),
    unauthorized,
  );
});

void test("Forgejo: X-Forgejo-Signature is accepted in place of X-Gitea-Signature", () => {
  const req = signed("gitea", "push", BODY);
  const sig = req.headers["x-gitea-signature"] as string;
  const forgejo = withHeader(without(req, "x-gitea-signature"), "x-forgejo-signature", sig);
  assert.doesNotThrow(() => verifyWebhook("gitea", forgejo, SECRET));
});

void test("an unknown provider is WEBHOOK_INVALID", () => {
  assert.throws(
    () => verifyWebhook("svn" as Provider, signed("github", "push", BODY), SECRET),
    (e) => isAirlockError(e, "WEBHOOK_INVALID"),
  );
});
