// A real, certified OpenID Provider for the tests: oidc-provider 8 on a random loopback port, with
// its development login and consent pages (any login name: the account id becomes `sub`; the
// account's other claims come from `accounts`, which a test may change between logins). `login()`
// plays the browser: from an authorization URL through the login and consent forms (with a cookie
// jar) to the provider's redirect back to the relying party, whose URL it returns.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { type ClientMetadata } from "oidc-provider";

export interface AccountClaims {
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

export interface TestProvider {
  issuer: string;
  /** sub → claims; change them between logins. */
  accounts: Map<string, AccountClaims>;
  /** Follows an authorization URL to the redirect back to the client; returns that URL. */
  login(authorizationUrl: string | URL, sub: string): Promise<URL>;
  close(): Promise<void>;
}

export interface TestProviderOptions {
  clients: ClientMetadata[];
  /** ID token lifetime in seconds (default one hour). */
  idTokenTtl?: number;
}

async function signingKeys(): Promise<Array<Record<string, unknown>>> {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: "rsa-1", use: "sig", alg: "RS256" },
    { ...(await exportJWK(ec.privateKey)), kid: "ec-1", use: "sig", alg: "ES256" },
  ];
}

export async function startOidcProvider(o: TestProviderOptions): Promise<TestProvider> {
  // The issuer names the port, so the provider is made after listening; requests wait for it.
  const app: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server: Server = createServer((req, res) => {
    if (app.handler) app.handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, AccountClaims>();
  const provider = new Provider(issuer, {
    clients: o.clients,
    jwks: { keys: await signingKeys() },
    cookies: { keys: ["test-cookie-key-not-secret"] },
    claims: {
      openid: ["sub"],
      profile: ["name", "preferred_username"],
      email: ["email"],
      groups: ["groups"],
    },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, ...(accounts.get(sub) ?? {}) }),
    }),
    features: { devInteractions: { enabled: true } },
    enabledJWA: { idTokenSigningAlgValues: ["RS256", "ES256", "HS256"] },
    ttl: { IdToken: o.idTokenTtl ?? 3600 },
  });
  // The provider reports its own errors (e.g. a refused token request) as events; the test sees
  // them as the client's refusals, so they stay quiet here.
  provider.on("server_error", () => undefined);
  app.handler = provider.callback();

  async function login(authorizationUrl: string | URL, sub: string): Promise<URL> {
    const jar = new Map<string, string>();
    let url = new URL(authorizationUrl);
    let init: RequestInit = {};
    for (let step = 0; step < 20; step++) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const res = await fetch(url, {
        ...init,
        redirect: "manual",
        headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair = ""] = c.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq).trim();
        if (/;\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(c)) jar.delete(name);
        else jar.set(name, pair.slice(eq + 1).trim());
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== issuer) return next;
        url = next;
        init = {};
        continue;
      }
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (res.status !== 200 || !action || !prompt)
        throw new Error(`provider answered ${res.status} at ${url.pathname}: ${html.slice(0, 300)}`);
      url = new URL(action, url);
      const form: Record<string, string> =
        prompt === "login" ? { prompt, login: sub, password: "any" } : { prompt };
      init = {
        method: "POST",
        body: new URLSearchParams(form).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      };
    }
    throw new Error("too many steps at the provider");
  }

  return {
    issuer,
    accounts,
    login,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
