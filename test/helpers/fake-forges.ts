// Local fake authorization servers for the forges' OAuth login (they cannot be reached from the
// tests), one node:http server, each forge under its own prefix and written to that forge's
// documented contract:
// - GitHub, docs.github.com "Authorizing OAuth apps" (web application flow): GET
//   /login/oauth/authorize (client_id, redirect_uri, scope, state, code_challenge +
//   code_challenge_method=S256) → 302 redirect_uri?code&state; POST /login/oauth/access_token
//   (client_id, client_secret, code, redirect_uri, code_verifier) answers JSON when asked with
//   Accept: application/json (else form-encoded), and HTTP 200 {error, error_description} for a
//   bad code; GET {api}/user with "Authorization: Bearer" → {id (number), login, name, email}.
// - GitLab, docs.gitlab.com "OAuth 2.0 identity provider API" (authorization code with PKCE):
//   GET /oauth/authorize (client_id, redirect_uri, response_type=code, state, scope,
//   code_challenge, code_challenge_method); POST /oauth/token (client_id, client_secret, code,
//   grant_type=authorization_code, redirect_uri, code_verifier) → {access_token, token_type,
//   expires_in, refresh_token, scope, created_at}, 400 {error: invalid_grant} when refused;
//   GET /api/v4/user → {id (number), username, name, email, state}.
// - Bitbucket Cloud, developer.atlassian.com "OAuth 2.0": GET /site/oauth2/authorize
//   (client_id, response_type=code, state; redirect_uri optional); POST /site/oauth2/access_token
//   with HTTP Basic client_id:secret (grant_type=authorization_code, code) → {access_token,
//   token_type, expires_in, refresh_token, scopes}; GET {api}/2.0/user → {uuid "{…}", account_id,
//   username, nickname, display_name}.
// "Who is logged in at the forge" is the x-fake-user header of the authorize request.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Forge = "github" | "gitlab" | "bitbucket";

export interface FakeAccount {
  /** GitHub/GitLab numeric id; Bitbucket uuid "{…}". */
  id: number | string;
  /** login / username, changeable. */
  login: string;
  name?: string;
}

export interface FakeForges {
  base: string;
  /** `auth` config section pointing at the fakes (secret files given). */
  config(secretFile: string): Record<Forge, Record<string, string>>;
  accounts: Record<Forge, Map<string, FakeAccount>>;
  clientId: string;
  clientSecret: string;
  /** The authorize requests received, for the test to inspect. */
  authorizeRequests: Array<{ forge: Forge; query: URLSearchParams }>;
  /** Plays the user approving at the forge: GET the authorize URL as `account`; the redirect back. */
  approve(authorizeUrl: URL, account: string): Promise<URL>;
  close(): Promise<void>;
}

interface Grant {
  forge: Forge;
  account: string;
  redirectUri: string | null;
  challenge: string | null;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "application/x-www-form-urlencoded" : "application/json",
    ...headers,
  });
  res.end(text);
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startFakeForges(): Promise<FakeForges> {
  const clientId = "fake-client-id";
  const clientSecret = "fake-client-secret";
  const accounts: FakeForges["accounts"] = { github: new Map(), gitlab: new Map(), bitbucket: new Map() };
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, { forge: Forge; account: string }>();
  const authorizeRequests: FakeForges["authorizeRequests"] = [];

  const authorize = (forge: Forge, url: URL, req: IncomingMessage, res: ServerResponse): void => {
    const q = url.searchParams;
    authorizeRequests.push({ forge, query: q });
    const user = req.headers["x-fake-user"];
    if (q.get("client_id") !== clientId || typeof user !== "string" || !accounts[forge].has(user))
      return send(res, 400, { error: "invalid_request" });
    if (forge !== "github" && q.get("response_type") !== "code")
      return send(res, 400, { error: "unsupported_response_type" });
    const method = q.get("code_challenge_method");
    if (q.has("code_challenge") && method !== "S256") return send(res, 400, { error: "invalid_request" });
    const code = randomBytes(10).toString("hex");
    const redirectUri = q.get("redirect_uri");
    codes.set(code, { forge, account: user, redirectUri, challenge: q.get("code_challenge") });
    const back = new URL(redirectUri ?? "https://registered-callback.invalid/");
    back.searchParams.set("code", code);
    const state = q.get("state");
    if (state !== null) back.searchParams.set("state", state);
    res.writeHead(302, { location: back.href }).end();
  };

  /** Checks the code grant; an error code or the account. */
  const redeem = (forge: Forge, p: URLSearchParams): { error: string } | { account: string } => {
    const grant = codes.get(p.get("code") ?? "");
    codes.delete(p.get("code") ?? "");
    if (!grant || grant.forge !== forge)
      return { error: forge === "github" ? "bad_verification_code" : "invalid_grant" };
    if (grant.redirectUri !== null && p.get("redirect_uri") !== grant.redirectUri)
      return { error: forge === "github" ? "redirect_uri_mismatch" : "invalid_grant" };
    if (grant.challenge !== null) {
      const v = p.get("code_verifier") ?? "";
      if (createHash("sha256").update(v).digest("base64url") !== grant.challenge)
        return { error: forge === "github" ? "bad_verification_code" : "invalid_grant" };
    }
    return { account: grant.account };
  };

  const token = async (forge: Forge, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const p = await form(req);
    let id = p.get("client_id");
    let secret = p.get("client_secret");
    if (forge === "bitbucket") {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      [id, secret] = Buffer.from(basic ?? "", "base64")
        .toString("utf8")
        .split(":") as [string, string];
    }
    if (id !== clientId || secret !== clientSecret) {
      if (forge === "github") return send(res, 200, { error: "incorrect_client_credentials" });
      return send(res, 401, { error: "invalid_client" });
    }
    if (forge !== "github" && p.get("grant_type") !== "authorization_code")
      return send(res, 400, { error: "unsupported_grant_type" });
    const r = redeem(forge, p);
    if ("error" in r) return forge === "github" ? send(res, 200, r) : send(res, 400, r);
    const access = randomBytes(16).toString("hex");
    tokens.set(access, { forge, account: r.account });
    if (forge === "github") {
      const body = { access_token: access, scope: p.get("scope") ?? "read:user", token_type: "bearer" };
      if (!(req.headers.accept ?? "").includes("application/json"))
        return send(res, 200, new URLSearchParams(body).toString());
      return send(res, 200, body);
    }
    return send(res, 200, {
      access_token: access,
      token_type: forge === "gitlab" ? "Bearer" : "bearer",
      expires_in: 7200,
      refresh_token: randomBytes(16).toString("hex"),
      ...(forge === "gitlab" ? { scope: "read_user", created_at: 1_700_000_000 } : { scopes: "account" }),
    });
  };

  const user = (forge: Forge, req: IncomingMessage, res: ServerResponse): void => {
    const t = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const who = tokens.get(t);
    const a = who && who.forge === forge ? accounts[forge].get(who.account) : undefined;
    if (!a) return send(res, 401, { message: "Bad credentials" });
    if (forge === "github")
      return send(res, 200, { id: a.id, login: a.login, name: a.name ?? null, email: null });
    if (forge === "gitlab")
      return send(res, 200, {
        id: a.id,
        username: a.login,
        name: a.name ?? a.login,
        email: null,
        state: "active",
      });
    return send(res, 200, {
      type: "user",
      uuid: a.id,
      account_id: `5b10a2844c20165700ede21${String(a.id).length}`,
      username: a.login,
      nickname: a.login,
      display_name: a.name ?? a.login,
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const route = `${req.method} ${url.pathname}`;
    const handlers: Record<string, () => void | Promise<void>> = {
      "GET /github/login/oauth/authorize": () => authorize("github", url, req, res),
      "POST /github/login/oauth/access_token": () => token("github", req, res),
      "GET /github-api/user": () => user("github", req, res),
      "GET /gitlab/oauth/authorize": () => authorize("gitlab", url, req, res),
      "POST /gitlab/oauth/token": () => token("gitlab", req, res),
      "GET /gitlab/api/v4/user": () => user("gitlab", req, res),
      "GET /bitbucket/site/oauth2/authorize": () => authorize("bitbucket", url, req, res),
      "POST /bitbucket/site/oauth2/access_token": () => token("bitbucket", req, res),
      "GET /bitbucket-api/2.0/user": () => user("bitbucket", req, res),
    };
    const h = handlers[route];
    if (!h) return send(res, 404, { message: "Not Found" });
    Promise.resolve(h()).catch((e: unknown) => send(res, 500, { message: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    clientId,
    clientSecret,
    accounts,
    authorizeRequests,
    config: (secretFile) => ({
      github: { clientId, clientSecretFile: secretFile, url: `${base}/github`, apiUrl: `${base}/github-api` },
      gitlab: { clientId, clientSecretFile: secretFile, url: `${base}/gitlab` },
      bitbucket: {
        clientId,
        clientSecretFile: secretFile,
        url: `${base}/bitbucket`,
        apiUrl: `${base}/bitbucket-api/2.0`,
      },
    }),
    approve: async (authorizeUrl, account) => {
      const res = await fetch(authorizeUrl, { redirect: "manual", headers: { "x-fake-user": account } });
      const location = res.headers.get("location");
      if (res.status !== 302 || !location)
        throw new Error(`fake forge answered ${res.status}: ${await res.text()}`);
      return new URL(location);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
