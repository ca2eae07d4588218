// The browser's side of a single sign-on login against the in-process server: start (checks the
// login cookie), the provider (played by the caller), the callback with that cookie (and an older
// session, if given), and what came back.
import assert from "node:assert/strict";
import { PUBLIC_URL, type TestServer } from "./helpers.js";

export interface Callback {
  status: number;
  location: string | undefined;
  session: string | undefined;
  setCookies: string[];
  body: string;
}

function cookies(h: string | string[] | undefined): string[] {
  return h === undefined ? [] : [h].flat();
}

/** The session cookie's value in a response, if any. */
export function sessionOf(h: string | string[] | undefined): string | undefined {
  return cookies(h)
    .map((c) => /^airlock_session=([^;]+)/.exec(c)?.[1])
    .find((v) => v !== undefined);
}

/** start → the provider (played by `follow`) → callback, as one browser at `address`. */
export async function ssoLogin(
  s: TestServer,
  startPath: string,
  follow: (authorizeUrl: URL) => Promise<URL>,
  o: { address?: string; session?: string; alterCallback?: (path: string) => string } = {},
): Promise<Callback> {
  const address = o.address ?? "203.0.113.10";
  const start = await s.app.inject({ method: "GET", url: startPath, remoteAddress: address });
  assert.equal(start.statusCode, 302, start.body);
  const ssoCookie = cookies(start.headers["set-cookie"]).find((c) => c.startsWith("airlock_sso="));
  assert.match(
    ssoCookie ?? "",
    /^airlock_sso=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/,
  );
  const back = await follow(new URL(start.headers.location as string));
  assert.ok(back.href.startsWith(PUBLIC_URL), back.href);
  const path = (o.alterCallback ?? ((p) => p))(back.href.slice(PUBLIC_URL.length));
  const cookie = [ssoCookie!.split(";")[0], ...(o.session ? [`airlock_session=${o.session}`] : [])].join(
    "; ",
  );
  const res = await s.app.inject({ method: "GET", url: path, headers: { cookie }, remoteAddress: address });
  return {
    status: res.statusCode,
    location: res.headers.location,
    session: sessionOf(res.headers["set-cookie"]),
    setCookies: cookies(res.headers["set-cookie"]),
    body: res.body,
  };
}

/** GET /api/v1/auth/me with a session cookie. */
export function me(s: TestServer, session: string) {
  return s.app.inject({
    method: "GET",
    url: "/api/v1/auth/me",
    headers: { cookie: `airlock_session=${session}` },
  });
}
