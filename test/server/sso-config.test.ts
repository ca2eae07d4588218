// The `auth` section of the server configuration: providers compiled with their defaults and
// their secrets read from files (trimmed, never inline), one line per bad setting, built-in users
// switched off (needs a provider; then a server start makes no `admin` user).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { isAirlockError } from "../../src/errors/index.js";
import { loadServerConfig } from "../../src/server/index.js";
import { startService } from "../../src/service/index.js";
import { createTestDatabase } from "../helpers/db.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sso-config-"));
  await writeFile(join(dir, "secret"), "  s3cret-value\n\n");
  await writeFile(join(dir, "empty"), " \n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(auth: unknown, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify({ auth }));
  return { file, load: () => loadServerConfig({ file, env }) };
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAirlockError(err, "CONFIG_INVALID"), String(err));
    return err.details as string[];
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("auth configuration", () => {
  it("defaults to built-in users and no provider", () => {
    const c = loadServerConfig({ env: {} });
    assert.deepEqual(c.auth, { builtinUsers: true, oidc: [], forges: [] });
  });

  it("compiles providers with their defaults; secrets come from files, trimmed", async () => {
    const secret = join(dir, "secret");
    const { load: l } = await load({
      builtinUsers: false,
      oidc: [
        {
          id: "corp",
          issuer: "https://sso.example.test/realms/main/",
          clientId: "airlock",
          clientSecretFile: secret,
          groupsClaim: "realm_access.roles",
          groupRoles: {
            admins: "server-admin",
            devs: [
              { organization: "default", role: "developer" },
              { organization: "default", repository: "app", role: "maintainer" },
            ],
          },
        },
      ],
      github: { clientId: "gh", clientSecretFile: secret, url: "https://ghe.example.test" },
      gitlab: { clientId: "gl", clientSecretFile: secret },
      bitbucket: { clientId: "bb", clientSecretFile: secret, name: "Bitbucket Cloud" },
    });
    const c = l();
    assert.equal(c.auth.builtinUsers, false);
    assert.deepEqual(c.auth.oidc, [
      {
        id: "corp",
        name: "corp",
        issuer: "https://sso.example.test/realms/main",
        clientId: "airlock",
        clientSecret: "s3cret-value",
        scopes: ["openid", "profile", "email"],
        algorithms: ["RS256", "ES256", "PS256", "EdDSA"],
        groupsClaim: "realm_access.roles",
        groupRoles: {
          admins: [{ kind: "server-admin" }],
          devs: [
            { kind: "organization", organization: "default", role: "developer" },
            { kind: "repository", organization: "default", repository: "app", role: "maintainer" },
          ],
        },
      },
    ]);
    assert.deepEqual(
      c.auth.forges.map((f) => [f.kind, f.name, f.url, f.apiUrl, f.clientSecret]),
      [
        ["github", "GitHub", "https://ghe.example.test", "https://ghe.example.test/api/v3", "s3cret-value"],
        ["gitlab", "GitLab", "https://gitlab.com", "https://gitlab.com/api/v4", "s3cret-value"],
        [
          "bitbucket",
          "Bitbucket Cloud",
          "https://bitbucket.org",
          "https://api.bitbucket.org/2.0",
          "s3cret-value",
        ],
      ],
    );
    const gh = loadServerConfig({
      file: (await load({ github: { clientId: "gh", clientSecretFile: secret } })).file,
      env: {},
    });
    assert.equal(gh.auth.forges[0]?.apiUrl, "https://api.github.com");
  });

  it("reports one line per bad setting, naming it, and never a secret", async () => {
    const good = { issuer: "https://sso.example.test", clientId: "a", clientSecretFile: join(dir, "secret") };
    const { file, load: l } = await load({
      oidc: [
        { ...good, id: "inline", clientSecret: "do-not-write-me-here" },
        { ...good, id: "algs", algorithms: ["RS256", "HS256", "none"] },
        { ...good, id: "plain", issuer: "http://sso.example.test" },
        { ...good, id: "noopenid", scopes: ["profile"] },
        { ...good, id: "Bad Id" },
        {
          ...good,
          id: "role",
          groupsClaim: "groups",
          groupRoles: { g: { organization: "o", role: "owner" } },
        },
      ],
    });
    const p = problems(l);
    assert.deepEqual(
      p.map((line) => line.slice(0, line.indexOf(":", file.length + 2))),
      [
        `${file}: auth.oidc[0].clientSecret`,
        `${file}: auth.oidc[1].algorithms[1]`,
        `${file}: auth.oidc[1].algorithms[2]`,
        `${file}: auth.oidc[2].issuer`,
        `${file}: auth.oidc[3].scopes`,
        `${file}: auth.oidc[4].id`,
        `${file}: auth.oidc[5].groupRoles.g`,
      ],
      p.join("\n"),
    );
    assert.match(p[0]!, /secrets are not written in the configuration/);
    assert.match(p[1]!, /never none or HS\*/);
    assert.match(p[6]!, /expected "server-admin", \{organization, role\}/);
    assert.match(p[3]!, /https:\/\/ URL \(http:\/\/ only for localhost\)/);
    assert.ok(!p.join("\n").includes("do-not-write-me-here"));

    const files = await load({
      oidc: [
        { ...good, id: "a", clientSecretFile: join(dir, "missing") },
        { ...good, id: "a", clientSecretFile: join(dir, "empty") },
        { ...good, id: "b", groupRoles: { g: "server-admin" } },
      ],
    });
    assert.deepEqual(problems(files.load), [
      `${files.file}: auth.oidc[0].clientSecretFile: ${join(dir, "missing")} cannot be read (ENOENT)`,
      `${files.file}: auth.oidc[1].id: a is used by an earlier provider`,
      `${files.file}: auth.oidc[1].clientSecretFile: ${join(dir, "empty")} is empty`,
      `${files.file}: auth.oidc[2].groupRoles: needs groupsClaim (the claim holding the groups)`,
    ]);
  });

  it("refuses built-in users switched off without any provider, from the file or the environment", async () => {
    const line =
      "auth.builtinUsers: false needs at least one single sign-on provider (auth.oidc, auth.github, auth.gitlab or auth.bitbucket)";
    assert.deepEqual(problems((await load({ builtinUsers: false })).load), [line]);
    assert.deepEqual(
      problems(() => loadServerConfig({ env: { AIRLOCK_BUILTIN_USERS: "false" } })),
      [line],
    );
    assert.deepEqual(
      problems(() => loadServerConfig({ env: { AIRLOCK_BUILTIN_USERS: "maybe" } })),
      ["AIRLOCK_BUILTIN_USERS: expected true or false, got 'maybe'"],
    );
  });

  it("a server start with built-in users switched off makes no admin user", async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), "airlock-sso-start-"));
    try {
      const service = await startService({
        env: { AIRLOCK_DATABASE_URL: db.url, AIRLOCK_DATA_DIR: dataDir, AIRLOCK_LOG_LEVEL: "silent" },
        overrides: {
          listenPort: 0,
          auth: {
            builtinUsers: false,
            forges: [],
            oidc: [
              {
                id: "corp",
                name: "Corp",
                issuer: "https://sso.example.test",
                clientId: "airlock",
                clientSecret: "x",
                scopes: ["openid"],
                algorithms: ["RS256"],
                groupRoles: {},
              },
            ],
          },
        },
        cliConfigPath: null,
      });
      try {
        assert.equal(service.adminUser, undefined);
        const users = await db.pool.query("SELECT name FROM users");
        assert.equal(users.rowCount, 0);
        assert.ok(!(await readdir(dataDir)).includes("admin-password"));
      } finally {
        await service.stop();
      }
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
