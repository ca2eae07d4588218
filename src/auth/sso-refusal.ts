// Why a single sign-on callback was refused, for the audit log. The browser never sees `reason` or
// `detail` (one line that names nothing: SSO_FAILED); the operator reads both in `login.failed`.
export class SsoRefusal extends Error {
  constructor(
    /** Stable, short: unknown_state, expired, browser_mismatch, provider_error, token_invalid, ... */
    readonly reason: string,
    /** What exactly (a library's message, the provider's error code), clipped. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail === undefined ? reason : `${reason}: ${detail}`, options);
    this.name = "SsoRefusal";
  }
}

/**
 * A bounded, single-line version of an error's message for the audit log, with the messages of
 * its causes (openid-client's own messages are generic; the cause names the claim).
 */
export function describeError(e: unknown, max = 300): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && depth < 3; depth++) {
    const m = c instanceof Error ? c.message : typeof c === "string" ? c : undefined;
    if (m !== undefined && m !== "" && !parts.includes(m)) parts.push(m);
    c = c instanceof Error ? c.cause : undefined;
  }
  const line = parts.join(": ").replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
