// OpenID Connect callbacks that must be refused, against a real OpenID Provider (oidc-provider 8)
// and a real PostgreSQL: state missing, wrong or replayed, another browser, the provider's error,
// a pending login past its time, a nonce or audience that is not ours, an expired token (Airlock's
// clock a day ahead; no waiting), an algorithm outside the allow-list (HS256), a tampered
// signature (the token endpoint's answer altered on its way, through the injected HTTP client),
// a disabled user. Each refusal is SSO_FAILED for the caller and a `login.failed` audit entry
// with the reason.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setUserDisabled } from "../../src/auth/index.js";
import { OTHER_SECRET, startOidcFixture, type OidcFixture } from "./oidc-fixture.js";

let f: OidcFixture;
before(async () => {
  f = await startOidcFixture();
});
after(async () => {
  await f?.close();
});

describe("OpenID Connect refusals", () => {
  it("refuses a missing or unknown state, a replayed callback, another browser and the provider's error", async () => {
    f.op.accounts.set("sub-dave", { preferred_username: "dave" });
    const fl = await f.flow("corp", "sub-dave");
    const noState = new URLSearchParams(fl.back.searchParams);
    noState.delete("state");
    await f.refused(fl.finish({ params: noState }), "unknown_state");
    const wrongState = new URLSearchParams(fl.back.searchParams);
    wrongState.set("state", randomBytes(32).toString("base64url"));
    await f.refused(fl.finish({ params: wrongState }), "unknown_state");
    await fl.finish();
    await f.refused(fl.finish(), "unknown_state");

    const other = await f.flow("corp", "sub-dave");
    await f.refused(
      other.finish({ browserSecret: randomBytes(32).toString("base64url") }),
      "browser_mismatch",
    );
    // The pending login is used up by that attempt: the right browser cannot use it afterwards.
    await f.refused(other.finish(), "unknown_state");

    const denied = await f.flow("corp", "sub-dave");
    const error = new URLSearchParams({
      error: "access_denied",
      error_description: "<script>alert(1)</script>",
      state: denied.start.redirect.searchParams.get("state")!,
      iss: f.op.issuer,
    });
    const f2 = await f.refused(denied.finish({ params: error }), "provider_error");
    assert.equal(f2.detail, "access_denied");
  });

  it("refuses a callback after its pending login expired (10 minutes)", async () => {
    f.op.accounts.set("sub-kai", { preferred_username: "kai" });
    const fl = await f.flow("corp", "sub-kai");
    f.offsetMs = 11 * 60_000;
    try {
      await f.refused(fl.finish(), "expired");
    } finally {
      f.offsetMs = 0;
    }
  });

  it("refuses an ID token whose nonce is not the one sent", async () => {
    f.op.accounts.set("sub-erin", { preferred_username: "erin" });
    const fl = await f.flow("corp", "sub-erin", (u) =>
      u.searchParams.set("nonce", "a-nonce-of-the-attacker"),
    );
    const r = await f.refused(fl.finish(), "token_invalid");
    assert.match(String(r.detail), /nonce/);
  });

  it("refuses an ID token issued to another client (audience), even with our nonce", async () => {
    f.op.accounts.set("sub-frank", { preferred_username: "frank" });
    const fl = await f.flow("corp", "sub-frank");
    // The other relying party's own login, with the nonce of ours, redeemed by that party.
    const verifier = randomBytes(32).toString("base64url");
    const auth = new URL(f.authorizationEndpoint);
    for (const [k, v] of Object.entries({
      client_id: "other-rp",
      response_type: "code",
      scope: "openid",
      redirect_uri: "https://other.example.test/cb",
      state: "other-state",
      nonce: fl.start.redirect.searchParams.get("nonce")!,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    }))
      auth.searchParams.set(k, v);
    const otherBack = await f.op.login(auth, "sub-frank");
    const res = await fetch(f.tokenEndpoint, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`other-rp:${OTHER_SECRET}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: otherBack.searchParams.get("code")!,
        redirect_uri: "https://other.example.test/cb",
        code_verifier: verifier,
      }),
    });
    assert.equal(res.status, 200);
    const otherTokens = await res.text();
    f.intercept = (url) =>
      url === f.tokenEndpoint
        ? Promise.resolve(new Response(otherTokens, { headers: { "content-type": "application/json" } }))
        : undefined;
    try {
      const r = await f.refused(fl.finish(), "token_invalid");
      assert.match(String(r.detail), /aud/);
    } finally {
      f.intercept = undefined;
    }
  });

  it("refuses an expired ID token (our clock a day ahead)", async () => {
    f.op.accounts.set("sub-gina", { preferred_username: "gina" });
    f.offsetMs = 24 * 3600 * 1000;
    try {
      const r = await f.refused((await f.flow("corp", "sub-gina")).finish(), "token_invalid");
      assert.match(String(r.detail), /exp/);
    } finally {
      f.offsetMs = 0;
    }
  });

  it("refuses an ID token signed with an algorithm outside the allow-list (HS256)", async () => {
    f.op.accounts.set("sub-hank", { preferred_username: "hank" });
    const r = await f.refused((await f.flow("hs", "sub-hank")).finish(), "token_invalid");
    assert.match(String(r.detail), /alg/i);
  });

  it("refuses an ID token whose signature was tampered with on its way", async () => {
    f.op.accounts.set("sub-ivy", { preferred_username: "ivy" });
    const fl = await f.flow("corp", "sub-ivy");
    const tamper = async (url: string, init: RequestInit | undefined): Promise<Response> => {
      const real = (await (await fetch(url, init)).json()) as { id_token: string };
      const [h, p, s] = real.id_token.split(".") as [string, string, string];
      const i = Math.floor(s.length / 2);
      const flipped = s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
      return new Response(JSON.stringify({ ...real, id_token: `${h}.${p}.${flipped}` }), {
        headers: { "content-type": "application/json" },
      });
    };
    f.intercept = (url, init) => (url === f.tokenEndpoint ? tamper(url, init) : undefined);
    try {
      const r = await f.refused(fl.finish(), "token_invalid");
      assert.match(String(r.detail), /signature/);
    } finally {
      f.intercept = undefined;
    }
  });

  it("refuses a disabled user, naming the user in the audit log only", async () => {
    f.op.accounts.set("sub-jo", { preferred_username: "jo" });
    const made = await (await f.flow("corp", "sub-jo")).finish();
    await setUserDisabled(f.db.pool, made.user.id, true);
    const r = await f.refused((await f.flow("corp", "sub-jo")).finish(), "user_disabled");
    assert.equal(r.actorId, String(made.user.id));
  });
});
