// The orchestrator's HTTP layer: buildServer() assembles a Fastify instance (not listening; the
// composition root calls listen) with every route of the REST API v1, the webhook receiver, the
// agents' WebSocket endpoint, health, metrics and the OpenAPI document. Routes hold no SQL: they
// validate input, then call catalog/views/tokens functions and the core's interfaces.
import Fastify, { type FastifyInstance } from "fastify";
import { makeLinks } from "../orchestrator/views/index.js";
import { installAccess } from "./access.js";
import { installAgentSocket } from "./agent-ws.js";
import { badgeRoutes } from "./badge.js";
import type { RouteContext, ServerDeps } from "./deps.js";
import { installErrorHandler } from "./errors.js";
import { CLIENT_POLICY, LoginThrottle, MemoryFailureLimiter, SingleSignOn } from "../auth/index.js";
import { createMetrics } from "./metrics.js";
import { agentRegisterRoute } from "./routes/agent-register.js";
import { jobIdentityApiRoutes, jobIdentityPublicRoutes } from "./routes/job-identity.js";
import { agentReleaseRoute } from "./routes/agent-release.js";
import { artifactBlobRoutes } from "./routes/artifacts-blobs.js";
import { artifactTwirpRoutes } from "./routes/artifacts-twirp.js";
import { cacheBlobRoutes } from "./routes/caches-blobs.js";
import { cacheTwirpRoutes } from "./routes/caches-twirp.js";
import { runArtifactRoutes } from "./routes/run-artifacts.js";
import { provenancePublicRoutes } from "./routes/provenance.js";
import { auditRoutes } from "./routes/audit.js";
import { authRoutes } from "./routes/auth.js";
import { ssoRoutes, ssoUrl } from "./routes/sso.js";
import { defaultWebRoot, installWebUi } from "./web.js";
import { installSecurityHeaders } from "./security-headers.js";
import { catalogRoutes } from "./routes/catalog.js";
import { nodeRoutes } from "./routes/nodes.js";
import { poolRoutes } from "./routes/pools.js";
import { organizationRoutes } from "./routes/organizations.js";
import { repositoryRoutes } from "./routes/repositories.js";
import { credentialRoutes } from "./routes/credentials.js";
import { forgeRoutes } from "./routes/forge.js";
import { memberRoutes } from "./routes/members.js";
import { runRoutes } from "./routes/runs.js";
import { secretRoutes } from "./routes/secrets.js";
import { environmentRoutes } from "./routes/environments.js";
import { tokenRoutes } from "./routes/tokens.js";
import { userRoutes } from "./routes/users.js";
import { uiRoutes } from "./routes/ui.js";
import { systemRoutes } from "./routes/system.js";
import { logStreamRoutes } from "./sse.js";
import { webhookRoutes } from "./webhook.js";

export type { ServerDeps } from "./deps.js";
export { loadServerConfig, type ServerConfig, type LoadServerConfigOptions } from "./config.js";
export { buildOpenApi } from "./openapi.js";
export { AGENT_PATH } from "./agent-ws.js";

export interface RegisteredRoute {
  method: string;
  url: string;
}

const ROUTES = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route buildServer registered (HEAD twins excluded): lets a test hold it against the OpenAPI document. */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return [...(ROUTES.get(app) ?? [])];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const ctx: RouteContext = {
    ...deps,
    links: makeLinks(deps.config.publicUrl),
    authFailures: deps.authFailures ?? new MemoryFailureLimiter(CLIENT_POLICY),
    nodeAuthLimiter: deps.nodeAuthLimiter ?? new MemoryFailureLimiter(CLIENT_POLICY),
    idTokenLimiter: deps.idTokenLimiter ?? new MemoryFailureLimiter(CLIENT_POLICY),
  };
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.apiBodyLimitBytes,
    // Ids are numbers in the API; a trailing slash is the same route.
    routerOptions: { ignoreTrailingSlash: true },
    // Only the configured proxies' X-Forwarded-For names the client (request.ip).
    ...(deps.config.trustProxy.length > 0 ? { trustProxy: deps.config.trustProxy } : {}),
  }) as unknown as FastifyInstance;
  const routes: RegisteredRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook("onRoute", (r) => {
    // The web UI's pages and files (schema.hide, src/server/web.ts) are not part of the API.
    if ((r.schema as { hide?: boolean } | undefined)?.hide === true) return;
    for (const method of [r.method].flat()) if (method !== "HEAD") routes.push({ method, url: r.url });
  });
  installErrorHandler(app);
  installSecurityHeaders(app, { https: deps.config.publicUrl.startsWith("https:") });

  await installWebUi(app, deps.webRoot ?? defaultWebRoot());
  const metrics = createMetrics(ctx);
  systemRoutes(app, ctx, metrics);
  installAgentSocket(app, ctx);
  agentRegisterRoute(app, ctx);
  jobIdentityPublicRoutes(app, ctx);
  provenancePublicRoutes(app, ctx);
  agentReleaseRoute(app, ctx);
  badgeRoutes(app, ctx);
  await app.register((scope, _opts, done) => {
    webhookRoutes(scope, ctx);
    done();
  });
  // The artifact service v4: twirp at the origin's root (the toolkit drops ACTIONS_RESULTS_URL's
  // path), and the signed blob URLs, whose bodies are streamed, in a scope of their own.
  artifactTwirpRoutes(app, ctx);
  await app.register((scope, _opts, done) => {
    artifactBlobRoutes(scope, ctx);
    done();
  });
  // The cache service v2, the same way (src/caches).
  cacheTwirpRoutes(app, ctx);
  await app.register((scope, _opts, done) => {
    cacheBlobRoutes(scope, ctx);
    done();
  });

  // Logging in and out: the routes check the password, the provider's answer or the session
  // cookie themselves.
  const throttle = new LoginThrottle();
  const sso = new SingleSignOn(ctx.pool, deps.config.auth, {
    redirectUri: (kind, id) => ssoUrl(deps.config.publicUrl, kind, id, "callback"),
  });
  await app.register(
    (auth, _opts, done) => {
      authRoutes(auth, ctx, throttle);
      ssoRoutes(auth, ctx, sso);
      done();
    },
    { prefix: "/api/v1" },
  );

  // Everything else under /api/v1 needs a personal or service API token, or a complete session,
  // and the permission the route declares in ROUTE_ACCESS (./route-access.ts).
  await app.register(
    (api, _opts, done) => {
      installAccess(api, ctx, ctx.authFailures);
      repositoryRoutes(api, ctx);
      credentialRoutes(api, ctx);
      forgeRoutes(api, ctx);
      runRoutes(api, ctx);
      runArtifactRoutes(api, ctx);
      logStreamRoutes(api, ctx);
      nodeRoutes(api, ctx);
      poolRoutes(api, ctx);
      organizationRoutes(api, ctx);
      catalogRoutes(api, ctx);
      auditRoutes(api, ctx);
      userRoutes(api, ctx);
      memberRoutes(api, ctx);
      tokenRoutes(api, ctx);
      secretRoutes(api, ctx);
      environmentRoutes(api, ctx);
      jobIdentityApiRoutes(api, ctx);
      uiRoutes(api, ctx);
      done();
    },
    { prefix: "/api/v1" },
  );
  return app;
}
