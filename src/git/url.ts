// Credentials in clone URLs. A URL may carry `user:password@` (https); Airlock never keeps it
// there: splitUserinfo takes it out (to be sealed as the repository's clone-password credential),
// stripUserinfo and redactUrls keep it out of everything shown — contexts, payloads, API answers,
// errors and logs.

export interface SplitUrl {
  /** The URL without userinfo. */
  url: string;
  /** The decoded user name and password, when the URL carried any (password "" when only a user). */
  userinfo?: { username: string; password: string };
}

const SCHEME_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]*)@/i;

/** Removes `user:password@` from text anywhere a URL appears (`https://u:p@h` → `https://***@h`). */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Splits the userinfo off an http(s) URL. Other URLs are returned as they are: the user of an
 * ssh URL (`ssh://git@host/x`, `git@host:x`) is not a secret, and ssh takes keys, not passwords
 * (hasPassword tells a caller to refuse `ssh://user:pass@`).
 */
export function splitUserinfo(url: string): SplitUrl {
  const m = SCHEME_USERINFO.exec(url);
  if (!m?.[1] || m[2] === undefined || !/^https?:\/\/$/i.test(m[1])) return { url };
  const info = m[2];
  const colon = info.indexOf(":");
  const username = decode(colon < 0 ? info : info.slice(0, colon));
  const password = colon < 0 ? "" : decode(info.slice(colon + 1));
  return { url: m[1] + url.slice(m[0].length), userinfo: { username, password } };
}

/** Whether a URL of any scheme carries a password (`scheme://user:password@`). */
export function hasPassword(url: string): boolean {
  const m = SCHEME_USERINFO.exec(url);
  return m?.[2] !== undefined && m[2].includes(":");
}

/** The URL without any userinfo an http(s) URL carried (other schemes: unchanged). */
export function stripUserinfo(url: string): string {
  return splitUserinfo(url).url;
}

/**
 * A copy of a JSON value (an event payload) in which every string holding `scheme://user…@` has
 * that userinfo replaced by nothing (http(s)) — what a job sees never carries a clone password.
 */
export function stripUrlsDeep<T>(value: T): T {
  if (typeof value === "string") return stripUrlsIn(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => stripUrlsDeep(v)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = stripUrlsDeep(v);
    return out as T;
  }
  return value;
}

/** stripUserinfo for every URL in a text; a password in a URL of any scheme goes too. */
export function stripUrlsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/gi, (all, scheme: string, info: string) =>
    /^https?:\/\/$/i.test(scheme) || info.includes(":") ? scheme : all,
  );
}
