// What the HTTP layer is built from. The lead's composition root creates these; tests pass stub
// core services that record their calls.
import type pg from "pg";
import type { Logger } from "pino";
import type { Histogram, Registry } from "prom-client";
import type { ArtifactService } from "../artifacts/index.js";
import type { FailureLimiter } from "../auth/index.js";
import type { CacheService } from "../caches/index.js";
import type { AgentHub, LogHub, RunsService } from "../orchestrator/types.js";
import type { Links } from "../orchestrator/views/index.js";
import type { Kms } from "../secrets/index.js";
import type { ServerConfig } from "./config.js";

export interface ServerDeps {
  pool: pg.Pool;
  config: ServerConfig;
  runs: RunsService;
  logs: LogHub;
  agents: AgentHub;
  logger: Logger;
  metrics: { registry: Registry; dispatchLatency: Histogram };
  /** The KMS the secret store seals under (opened by the composition root from config.kms). */
  kms: Kms;
  /** Counts failed token authentications per client address (default: in memory, CLIENT_POLICY). */
  authFailures?: FailureLimiter;
  /**
   * Failed node authentications (registration tokens, node credentials) per client address.
   * Default: a MemoryFailureLimiter with CLIENT_POLICY; tests pass one with their own clock.
   */
  nodeAuthLimiter?: FailureLimiter;
  /**
   * Failed identity token requests (dead request tokens) per client address: a limiter of their
   * own, so a job asking after its attempt ended never locks its node out of the agent WebSocket.
   * Default: a MemoryFailureLimiter with CLIENT_POLICY.
   */
  idTokenLimiter?: FailureLimiter;
  /**
   * The GitHub artifact service v4 (src/artifacts): its twirp routes and signed blob URLs answer
   * NOT_FOUND without it.
   */
  artifacts?: ArtifactService;
  /**
   * The GitHub cache service v2 (src/caches): its twirp routes and signed blob URLs answer
   * NOT_FOUND without it.
   */
  caches?: CacheService;
  /** The built web UI's folder (default: dist/web of the package). */
  webRoot?: string;
}

/** ServerDeps plus what buildServer derives once (links from the public address, the limiter). */
export interface RouteContext extends ServerDeps {
  links: Links;
  authFailures: FailureLimiter;
  nodeAuthLimiter: FailureLimiter;
  idTokenLimiter: FailureLimiter;
}
