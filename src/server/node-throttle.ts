// Throttling of failed node authentications (registration tokens on the exchange, node
// credentials on the agent WebSocket's upgrade), per client address, with one limiter for both.
// The limiter is asked BEFORE anything is looked up, so a locked-out client costs no query; a
// failure is counted after it happened. A success changes no count: not its own address's, and
// never another's. Secrets are 256 random bits, so this is about load and noise, not guessing.
import { addressKey, rateLimitedError, type FailureLimiter } from "../auth/index.js";
import type { AirlockError } from "../errors/index.js";

export interface NodeAuthGate {
  /** undefined: go ahead; else the error to answer with (429). */
  refusal(): Promise<AirlockError | undefined>;
  failed(): Promise<void>;
}

export function nodeAuthGate(limiter: FailureLimiter, address: string | undefined): NodeAuthGate {
  const key = addressKey(address ?? "");
  return {
    async refusal() {
      const d = await limiter.check(key);
      return d.allowed ? undefined : rateLimitedError(d.retryAfterMs);
    },
    async failed() {
      await limiter.recordFailure(key);
    },
  };
}
