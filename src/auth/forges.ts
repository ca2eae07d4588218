// OAuth 2.0 login through a forge, as each documents its authorization code flow:
// - GitHub (docs.github.com, "Authorizing OAuth apps", web application flow): GET
//   {url}/login/oauth/authorize (client_id, redirect_uri, scope, state, code_challenge S256,
//   allow_signup); POST {url}/login/oauth/access_token (client_id, client_secret, code,
//   redirect_uri, code_verifier) with Accept: application/json, which answers 200 with either
//   access_token or error; GET {apiUrl}/user with the bearer token: numeric `id`, `login`.
// - GitLab (docs.gitlab.com, "OAuth 2.0 identity provider API", authorization code with PKCE):
//   GET {url}/oauth/authorize (client_id, redirect_uri, response_type=code, state, scope,
//   code_challenge, code_challenge_method=S256); POST {url}/oauth/token (client_id,
//   client_secret, code, grant_type=authorization_code, redirect_uri, code_verifier); GET
//   {apiUrl}/user (default {url}/api/v4): numeric `id`, `username`.
// - Bitbucket Cloud (developer.atlassian.com, "OAuth 2.0"): GET {url}/site/oauth2/authorize
//   (client_id, response_type=code, state; no PKCE documented); POST {url}/site/oauth2/access_token
//   with HTTP Basic client_id:secret (grant_type=authorization_code, code); GET {apiUrl}/user
//   (default https://api.bitbucket.org/2.0): `uuid` ("{…}"), `username`/`nickname`.
// The identity is the immutable numeric id or uuid, never the login name (which users can change).
// Answers are bounded in size and time; nothing they contain reaches the browser.
import { SsoRefusal, describeError } from "./sso-refusal.js";
import type { ExternalIdentity, ForgeKind, ForgeSettings } from "./sso-types.js";

const TIMEOUT_MS = 10_000;
const MAX_BODY = 1024 * 1024;

export const FORGE_DEFAULTS: Record<
  ForgeKind,
  { name: string; url: string; apiUrl: (url: string) => string }
> = {
  github: {
    name: "GitHub",
    url: "https://github.com",
    apiUrl: (url) => (url === "https://github.com" ? "https://api.github.com" : `${url}/api/v3`),
  },
  gitlab: { name: "GitLab", url: "https://gitlab.com", apiUrl: (url) => `${url}/api/v4` },
  bitbucket: {
    name: "Bitbucket",
    url: "https://bitbucket.org",
    apiUrl: () => "https://api.bitbucket.org/2.0",
  },
};

const SCOPES: Record<ForgeKind, string | undefined> = {
  github: "read:user",
  gitlab: "read_user",
  // Bitbucket grants what the OAuth consumer was registered with ("Account: Read").
  bitbucket: undefined,
};

/** PKCE where the forge documents it. */
export function forgeSupportsPkce(kind: ForgeKind): boolean {
  return kind !== "bitbucket";
}

export interface ForgeLogin {
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString("base64url");
}

export async function forgeAuthorizationUrl(s: ForgeSettings, p: ForgeLogin): Promise<URL> {
  const path = {
    github: "/login/oauth/authorize",
    gitlab: "/oauth/authorize",
    bitbucket: "/site/oauth2/authorize",
  };
  const u = new URL(s.url + path[s.kind]);
  u.searchParams.set("client_id", s.clientId);
  u.searchParams.set("redirect_uri", p.redirectUri);
  u.searchParams.set("response_type", "code");
  u.searchParams.set("state", p.state);
  const scope = SCOPES[s.kind];
  if (scope !== undefined) u.searchParams.set("scope", scope);
  if (s.kind === "github") u.searchParams.set("allow_signup", "false");
  if (forgeSupportsPkce(s.kind)) {
    u.searchParams.set("code_challenge", await challenge(p.codeVerifier));
    u.searchParams.set("code_challenge_method", "S256");
  }
  return u;
}

/** The callback: state (checked by the caller against the pending login), code → token → user. */
export async function forgeIdentity(
  s: ForgeSettings,
  params: URLSearchParams,
  p: ForgeLogin,
  http: typeof fetch = fetch,
): Promise<ExternalIdentity> {
  const error = params.get("error");
  if (error !== null) throw new SsoRefusal("provider_error", error.slice(0, 64));
  if (params.getAll("state").length !== 1 || params.get("state") !== p.state)
    throw new SsoRefusal("unknown_state", "state parameter missing, repeated or different");
  const code = params.getAll("code");
  if (code.length !== 1 || !code[0] || code[0].length > 1024)
    throw new SsoRefusal("provider_error", "no single code parameter");
  const token = await exchange(s, code[0], p, http);
  const user = await getJson(http, `${s.apiUrl}/user`, {
    authorization: `Bearer ${token}`,
    accept: s.kind === "github" ? "application/vnd.github+json" : "application/json",
    "user-agent": "airlock",
  });
  return toIdentity(s.kind, user);
}

async function exchange(s: ForgeSettings, code: string, p: ForgeLogin, http: typeof fetch): Promise<string> {
  const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: p.redirectUri });
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/x-www-form-urlencoded",
    "user-agent": "airlock",
  };
  if (s.kind === "bitbucket")
    headers.authorization = `Basic ${Buffer.from(`${s.clientId}:${s.clientSecret}`).toString("base64")}`;
  else {
    body.set("client_id", s.clientId);
    body.set("client_secret", s.clientSecret);
  }
  if (forgeSupportsPkce(s.kind)) body.set("code_verifier", p.codeVerifier);
  const path = {
    github: "/login/oauth/access_token",
    gitlab: "/oauth/token",
    bitbucket: "/site/oauth2/access_token",
  };
  const answer = await getJson(http, s.url + path[s.kind], headers, body);
  // GitHub answers 200 with { error, error_description } when the code is refused.
  if (typeof answer.error === "string")
    throw new SsoRefusal("token_request_refused", answer.error.slice(0, 64));
  if (typeof answer.access_token !== "string" || answer.access_token.length === 0)
    throw new SsoRefusal("token_request_refused", "no access_token in the answer");
  return answer.access_token;
}

async function getJson(
  http: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body?: URLSearchParams,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await http(url, {
      method: body ? "POST" : "GET",
      headers,
      ...(body ? { body } : {}),
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new SsoRefusal("provider_unavailable", describeError(e), { cause: e });
  }
  const text = await boundedText(res);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data))
    throw new SsoRefusal(
      res.ok ? "provider_answer_invalid" : "token_request_refused",
      `${new URL(url).pathname}: HTTP ${res.status}, not a JSON object`,
    );
  if (!res.ok) {
    const err = (data as { error?: unknown }).error;
    throw new SsoRefusal(
      "token_request_refused",
      `${new URL(url).pathname}: HTTP ${res.status}${typeof err === "string" ? ` ${err.slice(0, 64)}` : ""}`,
    );
  }
  return data as Record<string, unknown>;
}

async function boundedText(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel();
      throw new SsoRefusal("provider_answer_invalid", "answer larger than 1 MiB");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function str(v: unknown, max = 256): string | undefined {
  return typeof v === "string" && v.length > 0 ? v.slice(0, max) : undefined;
}

function toIdentity(kind: ForgeKind, u: Record<string, unknown>): ExternalIdentity {
  let subject: string | undefined;
  if (kind === "bitbucket") {
    const uuid = u.uuid;
    if (typeof uuid === "string" && /^\{[0-9a-f-]{36}\}$/i.test(uuid)) subject = uuid.toLowerCase();
  } else if (typeof u.id === "number" && Number.isSafeInteger(u.id) && u.id > 0) subject = String(u.id);
  if (subject === undefined)
    throw new SsoRefusal("provider_answer_invalid", `the ${kind} user has no valid immutable id`);
  const identity: ExternalIdentity = { provider: kind, subject };
  const username =
    kind === "github"
      ? str(u.login)
      : kind === "gitlab"
        ? str(u.username)
        : (str(u.username) ?? str(u.nickname));
  if (username !== undefined) identity.username = username;
  const name = kind === "bitbucket" ? str(u.display_name) : str(u.name);
  if (name !== undefined) identity.displayName = name;
  const email = str(u.email);
  if (email !== undefined) identity.email = email;
  return identity;
}
