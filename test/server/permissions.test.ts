// Every authenticated API route × every kind of principal: the expected allow/deny is written here
// independently of the server's permission table (SPEC below), and the test fails when a route is
// registered without an entry here. Objects of another organization, and repositories of the
// same organization the caller has no role on, are invisible by id (404 exactly as a missing
// one). A request counts as "allowed" when the access check let it through: the route answered
// anything but 401/403 or the 404 of a hidden object (mutating routes get a body the route's own
// validation refuses, or an object whose state refuses the change, so nothing is destroyed).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiToken, createUser, setGrant, type Role } from "../../src/auth/index.js";
import { registeredRoutes } from "../../src/server/index.js";
import { startTestServer, type TestServer } from "./helpers.js";
import { seedJob, seedRun } from "./seed.js";

type Need = { level: "server" | "member" | "self" } | { level: "org" | "repo"; role: Role };
interface Spec {
  need: Need;
  /** The token scope it needs (undefined: any). */
  scope?: string;
  /** A service token may not do it. */
  userOnly?: boolean;
  /** A request body that passes the access check and is then refused by validation. */
  body?: unknown;
}

const server: Spec = { need: { level: "server" }, userOnly: true, scope: "admin" };
const org = (role: Role, scope: string, extra: Partial<Spec> = {}): Spec => ({
  need: { level: "org", role },
  scope,
  ...extra,
});
const repo = (role: Role, scope: string, extra: Partial<Spec> = {}): Spec => ({
  need: { level: "repo", role },
  scope,
  ...extra,
});
const BAD = { nope: 1 };

/** Secrets: maintainers (listing needs repos:read, setting secrets:write); variables: viewers read. */
function items(base: string, at: typeof org): Record<string, Spec> {
  return {
    [`GET ${base}/secrets`]: at("maintainer", "repos:read"),
    [`GET ${base}/secrets/:secret`]: at("maintainer", "repos:read"),
    [`PUT ${base}/secrets/:secret`]: at("maintainer", "secrets:write", { body: BAD }),
    [`DELETE ${base}/secrets/:secret`]: at("maintainer", "secrets:write"),
    [`GET ${base}/variables`]: at("viewer", "repos:read"),
    [`GET ${base}/variables/:variable`]: at("viewer", "repos:read"),
    [`PUT ${base}/variables/:variable`]: at("maintainer", "repos:admin", { body: BAD }),
    [`DELETE ${base}/variables/:variable`]: at("maintainer", "repos:admin"),
  };
}

const SPEC: Record<string, Spec> = {
  "GET /api/v1/repositories": { need: { level: "member" }, scope: "repos:read" },
  "POST /api/v1/repositories": org("admin", "repos:admin", { body: { organization: "ORG" } }),
  "GET /api/v1/repositories/:id": repo("viewer", "repos:read"),
  "PATCH /api/v1/repositories/:id": repo("admin", "repos:admin", { body: BAD }),
  "PUT /api/v1/repositories/:id/egress": repo("maintainer", "repos:admin", { body: BAD }),
  "GET /api/v1/repositories/:id/forge": repo("viewer", "repos:read"),
  "GET /api/v1/repositories/:id/artifact-policy": repo("viewer", "repos:read"),
  "PUT /api/v1/repositories/:id/artifact-policy": { ...server, body: BAD },
  "PUT /api/v1/repositories/:id/forge": repo("maintainer", "repos:admin", { body: BAD }),
  "DELETE /api/v1/repositories/:id": repo("admin", "repos:admin"), // a run is active: 409
  "POST /api/v1/repositories/:id/runs": repo("developer", "runs:write", { body: BAD }),
  "POST /api/v1/repositories/:id/dispatches": repo("developer", "runs:write", { body: BAD }),
  // Job-source credentials: write-only, as secrets (maintainers; setting needs secrets:write).
  "GET /api/v1/repositories/:id/credentials": repo("maintainer", "repos:read"),
  "PUT /api/v1/repositories/:id/credentials/:kind": repo("maintainer", "secrets:write", { body: BAD }),
  "DELETE /api/v1/repositories/:id/credentials/:kind": repo("maintainer", "secrets:write"), // none set: 404

  "GET /api/v1/repositories/:id/members": repo("maintainer", "repos:read"),
  "PUT /api/v1/repositories/:id/members/:user": repo("admin", "admin", { userOnly: true, body: BAD }),
  "DELETE /api/v1/repositories/:id/members/:user": repo("admin", "admin", { userOnly: true }),
  "GET /api/v1/runs": { need: { level: "member" }, scope: "runs:read" },
  "GET /api/v1/runs/:id": repo("viewer", "runs:read"),
  "GET /api/v1/runs/:id/artifacts": repo("viewer", "runs:read"),
  "GET /api/v1/runs/:id/artifacts/:artifact/download": repo("viewer", "runs:read"),
  "GET /api/v1/runs/:id/artifacts/:artifact/provenance": repo("viewer", "runs:read"),
  "GET /api/v1/runs/:id/mismatches": repo("viewer", "runs:read"),
  "POST /api/v1/runs/:id/artifacts/:artifact/promote": repo("developer", "runs:write"),
  "POST /api/v1/runs/:id/cancel": repo("developer", "runs:write"),
  "POST /api/v1/runs/:id/rerun": repo("developer", "runs:write"),
  // Untrusted runs: a maintainer, as a person (the seeded run does not wait: 409 when allowed).
  "POST /api/v1/runs/:id/approve": repo("maintainer", "runs:write", { userOnly: true }),
  "POST /api/v1/runs/:id/reject": repo("maintainer", "runs:write", { userOnly: true }),
  "GET /api/v1/jobs/:id": repo("viewer", "runs:read"),
  "GET /api/v1/jobs/:id/logs": repo("viewer", "runs:read"),
  "GET /api/v1/jobs/:id/logs/stream": repo("viewer", "runs:read"),
  // For the web UI: the log as JSON pages, step summaries, a run's annotations; the dashboard
  // (nodes and capacity, as the nodes list); what the caller may do (anyone, about themselves).
  "GET /api/v1/jobs/:id/log-chunks": repo("viewer", "runs:read"),
  "GET /api/v1/jobs/:id/summaries": repo("viewer", "runs:read"),
  "GET /api/v1/runs/:id/annotations": repo("viewer", "runs:read"),
  "GET /api/v1/dashboard": { ...server, scope: "nodes:read" },
  "GET /api/v1/me/permissions": { need: { level: "self" } },
  // Environments: everyone on the repository reads the rules, only a repository admin (a user, not a
  // service token) changes them. Reviewing a run's deployments: any user who sees the repository may
  // ask (the environment's rules decide; the seeded run waits for nothing: 409).
  "GET /api/v1/repositories/:id/environments": repo("viewer", "repos:read"),
  "GET /api/v1/repositories/:id/environments/:env": repo("viewer", "repos:read"), // none: 404 not hidden
  "PUT /api/v1/repositories/:id/environments/:env": repo("admin", "repos:admin", {
    userOnly: true,
    body: BAD,
  }),
  "DELETE /api/v1/repositories/:id/environments/:env": repo("admin", "repos:admin", { userOnly: true }),
  "GET /api/v1/runs/:id/deployments": repo("viewer", "runs:read"),
  "POST /api/v1/runs/:id/deployments": repo("viewer", "runs:write", { userOnly: true, body: BAD }),
  "GET /api/v1/organizations": { need: { level: "member" }, scope: "repos:read" },
  "POST /api/v1/organizations": { ...server, body: BAD },
  // Server administrators only; the organization has an active run, so it is refused (409).
  "DELETE /api/v1/organizations/:name": server,
  "GET /api/v1/organizations/:name": org("viewer", "repos:read"),
  "PUT /api/v1/organizations/:name/limit": { ...server, body: BAD },
  "PUT /api/v1/organizations/:name/settings": org("admin", "admin", { userOnly: true, body: BAD }),
  "POST /api/v1/organizations/:name/id-token-keys/rotate": org("admin", "admin", { userOnly: true }),
  "GET /api/v1/organizations/:name/members": org("maintainer", "repos:read"),
  "PUT /api/v1/organizations/:name/members/:user": org("admin", "admin", { userOnly: true, body: BAD }),
  "DELETE /api/v1/organizations/:name/members/:user": org("admin", "admin", { userOnly: true }),
  "GET /api/v1/organizations/:name/tokens": org("admin", "admin", { userOnly: true }),
  "POST /api/v1/organizations/:name/tokens": org("admin", "admin", { userOnly: true, body: BAD }),
  "DELETE /api/v1/organizations/:name/tokens/:id": org("admin", "admin", { userOnly: true }),
  // Secrets (write-only) and variables of an organization, a repository, an environment.
  ...items("/api/v1/organizations/:name", org),
  ...items("/api/v1/repositories/:id", repo),
  ...items("/api/v1/repositories/:id/environments/:env", repo),
  "GET /api/v1/images": { need: { level: "member" }, scope: "repos:read" },
  "POST /api/v1/images": { ...server, body: BAD },
  "GET /api/v1/flavours": { need: { level: "member" }, scope: "repos:read" },
  "POST /api/v1/flavours": { ...server, body: BAD },
  "GET /api/v1/nodes": { ...server, scope: "nodes:read" },
  "GET /api/v1/nodes/registrations": { ...server, scope: "nodes:read" },
  "POST /api/v1/nodes/registrations": { ...server, scope: "nodes:admin", body: BAD },
  "DELETE /api/v1/nodes/registrations/:id": { ...server, scope: "nodes:admin" },
  "POST /api/v1/nodes/:id/revoke": { ...server, scope: "nodes:admin" },
  "POST /api/v1/nodes/:id/credential": { ...server, scope: "nodes:admin" },
  "POST /api/v1/nodes/:id/disable": { ...server, scope: "nodes:admin" },
  "POST /api/v1/nodes/:id/enable": { ...server, scope: "nodes:admin" },
  "DELETE /api/v1/nodes/:id": { ...server, scope: "nodes:admin" },
  // Pools and authorizations: server administrators; a repository admin reads its repository's.
  "PUT /api/v1/nodes/:id/labels": { ...server, scope: "nodes:admin", body: BAD },
  "PUT /api/v1/nodes/:id/pool": { ...server, scope: "nodes:admin", body: BAD },
  "PUT /api/v1/nodes/:id/worker": { ...server, scope: "nodes:admin", body: BAD },
  "DELETE /api/v1/nodes/:id/flag": { ...server, scope: "nodes:admin" },
  "GET /api/v1/pools": { ...server, scope: "nodes:read" },
  "POST /api/v1/pools": { ...server, scope: "nodes:admin", body: BAD },
  "PUT /api/v1/pools/:name/group": { ...server, scope: "nodes:admin", body: BAD },
  "PUT /api/v1/pools/:name/deploy": { ...server, scope: "nodes:admin", body: BAD },
  "DELETE /api/v1/pools/:name": { ...server, scope: "nodes:admin" }, // no pool of that name: 404
  "GET /api/v1/authorizations": { ...server, scope: "nodes:read" },
  "POST /api/v1/authorizations": { ...server, scope: "nodes:admin", body: BAD },
  "POST /api/v1/authorizations/:id/approve": { ...server, scope: "nodes:admin" }, // none: 404
  "POST /api/v1/authorizations/:id/revoke": { ...server, scope: "nodes:admin", body: BAD },
  "GET /api/v1/repositories/:id/authorizations": repo("admin", "repos:read"),
  "GET /api/v1/users": server,
  "POST /api/v1/users": { ...server, body: BAD },
  "GET /api/v1/users/:id": server,
  "PATCH /api/v1/users/:id": { ...server, body: BAD },
  "DELETE /api/v1/users/:id": server,
  "PUT /api/v1/users/:id/password": { ...server, body: BAD },
  "DELETE /api/v1/users/:id/totp": server,
  "GET /api/v1/users/:id/tokens": server,
  "GET /api/v1/audit": { ...server, scope: "audit:read" },
  "GET /api/v1/me": { need: { level: "self" } },
  "PUT /api/v1/me/password": { need: { level: "self" }, scope: "admin", userOnly: true, body: BAD },
  "GET /api/v1/tokens": { need: { level: "self" } },
  "POST /api/v1/tokens": { need: { level: "self" }, scope: "admin", userOnly: true, body: BAD },
  // Another token's id (999999): the admin scope is needed; a token's own id needs none (access.test.ts).
  "DELETE /api/v1/tokens/:id": { need: { level: "self" }, scope: "admin", userOnly: true },
};

// Routes outside the authenticated scope (they authenticate in their own way; status badges are
// public, and show a repository's status only to who may see it: test/server/badge.test.ts; the
// provenance public keys are public: test/artifacts/provenance-keys.test.ts).
const OPEN =
  /^\/(healthz|metrics)$|^\/api\/v1\/(openapi\.json|auth\/|webhooks\/|agent|provenance\/keys$)|^(\/orgs\/:org)?\/\.well-known\/|^\/badge\/|^\/twirp\/github\.actions\.results\.api\.v1\.(Artifact|Cache)Service\/|^\/(artifacts|caches)\/blobs\/:id$/;

interface Who {
  name: string;
  token: string;
  serverAdmin?: boolean;
  orgRole?: Role;
  repoRole?: Role;
  service?: boolean;
  scopes?: string[];
}

const RANK: Role[] = ["viewer", "developer", "maintainer", "admin"];
const atLeast = (r: Role | undefined, min: Role): boolean =>
  r !== undefined && RANK.indexOf(r) >= RANK.indexOf(min);
const hasScope = (granted: string[] | undefined, need: string | undefined): boolean =>
  need === undefined ||
  granted === undefined ||
  granted.includes("admin") ||
  granted.includes(need) ||
  (need.endsWith(":read") &&
    granted.includes(need.replace(":read", need.startsWith("runs") ? ":write" : ":admin")));

/** What the caller should get: "ok", "403" or "404" (hidden). `place` is where the object is. */
function expected(who: Who, spec: Spec, place: "home" | "sibling" | "foreign"): "ok" | "403" | "404" {
  const need = spec.need;
  const targeted = need.level === "org" || need.level === "repo";
  if (targeted && !who.serverAdmin) {
    if (place === "foreign") return "404";
    if (who.service) {
      /* an acme service token sees all of acme */
    } else if (need.level === "org" && !who.orgRole && !who.repoRole) return "404";
    else if (need.level === "repo" && !who.orgRole && (place === "sibling" || !who.repoRole)) return "404";
  }
  if (spec.userOnly && who.service) return "403";
  if (!hasScope(who.scopes, spec.scope)) return "403";
  if (who.serverAdmin) return "ok";
  switch (need.level) {
    case "server":
      return "403";
    case "self":
      return "ok";
    case "member":
      return who.service || who.orgRole || who.repoRole ? "ok" : "403";
    case "org":
      return who.service || atLeast(who.orgRole, need.role) ? "ok" : "403";
    case "repo": {
      if (who.service) return "ok";
      const eff = [who.orgRole, place === "home" ? who.repoRole : undefined].filter((r): r is Role => !!r);
      return eff.some((r) => atLeast(r, need.role)) ? "ok" : "403";
    }
  }
}

let s: TestServer;
const people: Who[] = [];
const ids = {
  home: { repo: 0, run: 0, job: 0, org: "acme" },
  sibling: { repo: 0, run: 0, job: 0, org: "acme" },
  foreign: { repo: 0, run: 0, job: 0, org: "other" },
};
let nodeId = 0;

before(async () => {
  s = await startTestServer();
  const pool = s.db.pool;
  const api = async (method: string, url: string, payload?: unknown): Promise<{ id: number }> => {
    const r = await s.app.inject({
      method: method as "POST",
      url,
      headers: s.auth,
      ...(payload ? { payload } : {}),
    });
    assert.ok(r.statusCode < 300, r.body);
    return JSON.parse(r.body) as { id: number };
  };
  await api("POST", "/api/v1/organizations", { name: "acme" });
  await api("POST", "/api/v1/organizations", { name: "other" });
  for (const [place, orgName, name] of [
    ["home", "acme", "acme/app"],
    ["sibling", "acme", "acme/lib"],
    ["foreign", "other", "other/app"],
  ] as const) {
    const r = await api("POST", "/api/v1/repositories", {
      name,
      cloneUrl: `/srv/${name}`,
      organization: orgName,
    });
    const runId = await seedRun(pool, r.id, { state: "running" });
    const jobId = await seedJob(
      pool,
      await seedRun(pool, r.id, { state: "completed", conclusion: "success" }),
      {
        state: "completed",
        conclusion: "success",
      },
    );
    ids[place] = { repo: r.id, run: runId, job: jobId, org: orgName };
    s.logs.finish(jobId); // the log stream of a finished job ends after its backlog
  }
  nodeId = (await s.db.pool.query<{ id: string }>("INSERT INTO nodes (name) VALUES ('n1') RETURNING id"))
    .rows[0]!.id as unknown as number;
  const acme = (await pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'acme'")).rows[0]!
    .id;
  const tokenOf = async (userId: number, scopes = ["admin"]): Promise<string> =>
    (await createApiToken(pool, { kind: "personal", name: "t", scopes, userId })).token;
  people.push({ name: "server admin", token: s.admin, serverAdmin: true });
  for (const role of RANK) {
    const u = await createUser(pool, { name: `org-${role}` });
    await setGrant(pool, { userId: u.id, organizationId: Number(acme), role });
    people.push({ name: `organization ${role}`, token: await tokenOf(u.id), orgRole: role });
    const v = await createUser(pool, { name: `repo-${role}` });
    await setGrant(pool, { userId: v.id, organizationId: Number(acme), repositoryId: ids.home.repo, role });
    people.push({ name: `repository ${role}`, token: await tokenOf(v.id), repoRole: role });
  }
  const nobody = await createUser(pool, { name: "nobody" });
  people.push({ name: "user without a role", token: await tokenOf(nobody.id) });
  const narrow = await createUser(pool, { name: "narrow" });
  await setGrant(pool, { userId: narrow.id, organizationId: Number(acme), role: "admin" });
  people.push({
    name: "organization admin with a runs:read token",
    token: await tokenOf(narrow.id, ["runs:read"]),
    orgRole: "admin",
    scopes: ["runs:read"],
  });
  const svc = await createApiToken(pool, {
    kind: "service",
    name: "ci bot",
    scopes: ["admin"],
    organizationId: Number(acme),
  });
  people.push({ name: "acme service token", token: svc.token, service: true, scopes: ["admin"] });
});
after(async () => {
  await s?.close();
});

function url(pattern: string, place: keyof typeof ids): string {
  const o = ids[place];
  const kind = /^\/api\/v1\/(runs|jobs)\//.exec(pattern)?.[1];
  return pattern
    .replace(
      ":id",
      String(
        pattern.startsWith("/api/v1/nodes/")
          ? nodeId
          : pattern.startsWith("/api/v1/users/") || pattern.includes("/tokens/")
            ? 999999
            : kind === "runs"
              ? o.run
              : kind === "jobs"
                ? o.job
                : o.repo,
      ),
    )
    .replace(":name", o.org)
    .replace(":user", "no-such-user")
    .replace(":env", "production")
    .replace(":kind", "forge-token")
    .replace(":secret", "NO_SUCH_SECRET")
    .replace(":variable", "NO_SUCH_VARIABLE");
}

const HIDDEN = /^(repository|run|job|organization) \S+ not found$/;

describe("every route × every role", () => {
  it("has an expectation for every authenticated route, and none for a route that does not exist", () => {
    const routes = registeredRoutes(s.app)
      .filter((r) => !OPEN.test(r.url))
      .map((r) => `${r.method} ${r.url}`);
    assert.deepEqual([...routes].sort(), Object.keys(SPEC).sort());
  });

  for (const place of ["home", "sibling", "foreign"] as const) {
    it(`allows and denies as specified, objects ${place === "home" ? "in the caller's organization and repository" : place === "sibling" ? "in a repository of the organization the repository roles do not cover" : "of another organization"}`, async () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const [key, spec] of Object.entries(SPEC)) {
        const [method, pattern] = key.split(" ") as [string, string];
        const targeted = spec.need.level === "org" || spec.need.level === "repo";
        if (!targeted && place !== "home") continue;
        for (const who of people) {
          const body =
            spec.body === undefined
              ? undefined
              : JSON.parse(JSON.stringify(spec.body).replace("ORG", ids[place].org));
          const r = await s.app.inject({
            method: method as "GET",
            url: url(pattern, place),
            headers: { authorization: `Bearer ${who.token}` },
            ...(body !== undefined ? { payload: body } : {}),
          });
          const message = (() => {
            try {
              return (JSON.parse(r.body) as { error?: { message?: string } }).error?.message ?? "";
            } catch {
              return "";
            }
          })();
          const got =
            r.statusCode === 403 || r.statusCode === 401
              ? "403"
              : r.statusCode === 404 && HIDDEN.test(message)
                ? "404"
                : "ok";
          const want = expected(who, spec, place);
          checked++;
          if (got !== want)
            wrong.push(`${key} as ${who.name} (${place}): got ${r.statusCode} ${message}, want ${want}`);
          if (got === "403") assert.notEqual(r.statusCode, 401, `${key} as ${who.name}: the token is valid`);
        }
      }
      assert.deepEqual(wrong, []);
      assert.ok(checked > 100, `checked ${checked}`);
    });
  }

  it("a hidden object answers exactly like a missing one", async () => {
    const viewer = people.find((p) => p.name === "repository viewer")!;
    const get = (u: string) =>
      s.app.inject({ method: "GET", url: u, headers: { authorization: `Bearer ${viewer.token}` } });
    for (const [hidden, missing] of [
      [`/api/v1/repositories/${ids.foreign.repo}`, "/api/v1/repositories/999999"],
      [`/api/v1/runs/${ids.sibling.run}`, "/api/v1/runs/999999"],
      [`/api/v1/jobs/${ids.foreign.job}/logs`, "/api/v1/jobs/999999/logs"],
    ] as const) {
      const a = await get(hidden);
      const b = await get(missing);
      assert.equal(a.statusCode, 404);
      assert.equal(b.statusCode, 404);
      const strip = (body: string) => body.replace(/\d+/g, "N");
      assert.equal(strip(a.body), strip(b.body));
    }
  });

  it("lists show only what the caller may see", async () => {
    const list = async (who: string, u: string): Promise<unknown[]> => {
      const p = people.find((x) => x.name === who)!;
      const r = await s.app.inject({
        method: "GET",
        url: u,
        headers: { authorization: `Bearer ${p.token}` },
      });
      assert.equal(r.statusCode, 200, r.body);
      return JSON.parse(r.body) as unknown[];
    };
    const names = (xs: unknown[]) => xs.map((x) => (x as { name: string }).name).sort();
    assert.deepEqual(names(await list("repository viewer", "/api/v1/repositories")), ["acme/app"]);
    assert.deepEqual(names(await list("organization viewer", "/api/v1/repositories")), [
      "acme/app",
      "acme/lib",
    ]);
    assert.deepEqual(names(await list("acme service token", "/api/v1/repositories")), [
      "acme/app",
      "acme/lib",
    ]);
    assert.equal((await list("server admin", "/api/v1/repositories")).length, 3);
    assert.deepEqual(names(await list("repository viewer", "/api/v1/organizations")), ["acme"]);
    const runs = (await list("repository developer", "/api/v1/runs")) as Array<{ repositoryId: number }>;
    assert.ok(runs.length > 0);
    assert.ok(runs.every((r) => r.repositoryId === ids.home.repo));
    const foreign = await list("organization admin", `/api/v1/runs?repository=${ids.foreign.repo}`);
    assert.deepEqual(foreign, []);
  });
});
