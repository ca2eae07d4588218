// POST /api/v1/webhooks/:provider/:repositoryId — no bearer token: the delivery is authenticated by
// its signature over the raw body, with the repository's secret. Order matters:
//   1. the body is read raw and capped (bodyLimit) BEFORE anything hashes it → 413;
//   2. repository lookup, then signature → 401, and nothing is stored for an unsigned request. An
//      unknown repository id is checked against a random secret, so it answers exactly as a known
//      one with a wrong signature (same status, same message, same work): the endpoint does not
//      tell an unauthenticated caller which repository ids exist;
//   3. the payload is parsed (pure; a malformed one → 400, nothing stored);
//   4. only then is the delivery id recorded, ON CONFLICT DO NOTHING: a repeat → 200 duplicate —
//      a repeat of the id, or of what the delivery describes within DEDUP_WINDOW_DAYS (a signed
//      delivery replayed under a new id: src/sources/fingerprint.ts);
//   5. ignored events → 200; others go to the core → 202 with the runs. If the core fails, the
//      delivery is forgotten again so the provider's redelivery is processed.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { forgetDelivery, recordDelivery } from "../orchestrator/catalog/index.js";
import { webhookSecretOf } from "../secrets/index.js";
import type { RunSummary } from "../orchestrator/types.js";
import {
  DEDUP_WINDOW_DAYS,
  deliveryFingerprint,
  MAX_WEBHOOK_BODY_BYTES,
  parseWebhookEvents,
  verifyWebhook,
  type Provider,
  type WebhookRequest,
} from "../sources/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import type { RouteContext } from "./deps.js";
import { WebhookParams } from "./schemas.js";
import { validate } from "./validate.js";

/** Routing headers of ignored deliveries (parsed events carry their own delivery id). */
const HEADERS: Record<Provider, { event: string[]; delivery: string[] }> = {
  github: { event: ["x-github-event"], delivery: ["x-github-delivery"] },
  gitlab: { event: ["x-gitlab-event"], delivery: ["idempotency-key", "x-gitlab-event-uuid"] },
  gitea: {
    event: ["x-forgejo-event", "x-gitea-event"],
    delivery: ["x-forgejo-delivery", "x-gitea-delivery"],
  },
  bitbucket: { event: ["x-event-key"], delivery: ["x-request-uuid"] },
};

function firstHeader(req: FastifyRequest, names: string[]): string | undefined {
  for (const n of names) {
    const v = req.headers[n];
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return undefined;
}

export const WEBHOOK_ROUTE = "/api/v1/webhooks/:provider/:repositoryId";

/** What a delivery for an unknown repository id is verified against (random per process). */
const UNKNOWN_REPOSITORY_SECRET = randomBytes(32).toString("hex");

export function webhookRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // In this plugin's scope only: every content type arrives as the raw Buffer the signature covers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: MAX_WEBHOOK_BODY_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.post(WEBHOOK_ROUTE, { bodyLimit: MAX_WEBHOOK_BODY_BYTES }, async (request, reply) => {
    const { params } = validate(request, { params: WebhookParams });
    const provider: Provider = params.provider;
    const known = await webhookSecretOf(ctx.pool, ctx.kms, params.repositoryId).catch((err: unknown) => {
      // A secret that no longer opens (its organization key destroyed, its row altered) verifies
      // nothing: the delivery is refused as unsigned, and the cause logged (never the secret).
      if (!isAirlockError(err, "KEY_DESTROYED") && !isAirlockError(err, "SECRET_UNREADABLE")) throw err;
      request.log.error({ err, repositoryId: params.repositoryId }, "webhook secret unreadable");
      return undefined;
    });
    const req: WebhookRequest = {
      headers: request.headers,
      rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    };
    verifyWebhook(provider, req, known ?? UNKNOWN_REPOSITORY_SECRET);
    // Unreachable in practice (nobody knows the random secret), but never go on without a repository.
    if (known === undefined)
      throw new AirlockError(ErrorCode.WEBHOOK_UNAUTHORIZED, "signature does not match");
    const parsed = parseWebhookEvents(provider, req);

    const ignored = !Array.isArray(parsed);
    const first = Array.isArray(parsed) ? parsed[0] : undefined;
    const deliveryId = first?.deliveryId ?? firstHeader(request, HEADERS[provider].delivery);
    const event = first?.event ?? firstHeader(request, HEADERS[provider].event) ?? "";
    if (deliveryId === undefined)
      throw new AirlockError(
        ErrorCode.WEBHOOK_INVALID,
        `missing header ${HEADERS[provider].delivery.join(" or ")}`,
      );
    const fresh = await recordDelivery(ctx.pool, {
      provider,
      deliveryId,
      repositoryId: params.repositoryId,
      event,
      outcome: ignored ? `ignored: ${parsed.ignored}` : "accepted",
      ...(ignored
        ? {}
        : { fingerprint: { digest: deliveryFingerprint(parsed), windowDays: DEDUP_WINDOW_DAYS } }),
    });
    if (!fresh) return reply.status(200).send({ duplicate: true });
    if (ignored) return reply.status(200).send({ ignored: parsed.ignored });

    const runs: RunSummary[] = [];
    try {
      for (const e of parsed)
        runs.push(...(await ctx.runs.handleSourceEvent(params.repositoryId, e, "webhook")));
    } catch (err) {
      await forgetDelivery(ctx.pool, provider, deliveryId).catch(() => undefined);
      throw err;
    }
    return reply.status(202).send({ runs });
  });
}
