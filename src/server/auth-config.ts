// The `auth` section of the server's configuration file, compiled into SsoSettings: built-in users
// on or off, OpenID Connect providers, and GitHub / GitLab / Bitbucket OAuth apps. Client secrets
// are read from files (never written inline), trimmed; a missing or empty file is a bad setting.
// Every problem is one line naming the setting ("config.yaml: auth.oidc[0].issuer: ...").
// Only `builtinUsers` has an environment form (AIRLOCK_BUILTIN_USERS); provider lists live in the
// file.
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  DEFAULT_OIDC_ALGORITHMS,
  DEFAULT_OIDC_SCOPES,
  DEFAULT_SSO_SETTINGS,
  FORGE_DEFAULTS,
  FORGES,
  OIDC_ALGORITHMS,
  ROLES,
  isLoopbackUrl,
  type ForgeSettings,
  type GroupGrant,
  type OidcSettings,
  type SsoSettings,
} from "../auth/index.js";

const httpsUrl = z
  .string()
  .url()
  .refine((u) => /^https:\/\//.test(u) || (/^http:\/\//.test(u) && isLoopbackUrl(u)), {
    message: "expected an https:// URL (http:// only for localhost)",
  })
  .transform((u) => u.replace(/\/+$/, ""));

const GRANT_SHAPE = `expected "server-admin", {organization, role} or {organization, repository, role} (role: ${ROLES.join(", ")}), or a list of these`;
const grant = z.union(
  [
    z.literal("server-admin"),
    z.strictObject({
      organization: z.string().min(1),
      repository: z.string().min(1).optional(),
      role: z.enum(ROLES),
    }),
  ],
  { message: GRANT_SHAPE },
);

const OidcProvider = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { message: "expected a slug: a-z, 0-9, '-', at most 40" }),
  name: z.string().min(1).max(100).optional(),
  issuer: httpsUrl,
  clientId: z.string().min(1),
  clientSecretFile: z.string().min(1),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
    .refine((s) => s.includes("openid"), { message: "the scopes must include openid" })
    .optional(),
  algorithms: z
    .array(
      z.enum(OIDC_ALGORITHMS, {
        message: `expected some of ${OIDC_ALGORITHMS.join(", ")} (never none or HS*)`,
      }),
    )
    .min(1)
    .optional(),
  groupsClaim: z.string().min(1).optional(),
  groupRoles: z
    .record(z.string().min(1), z.union([grant, z.array(grant).min(1)], { message: GRANT_SHAPE }))
    .optional(),
});

const Forge = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  clientId: z.string().min(1),
  clientSecretFile: z.string().min(1),
  url: httpsUrl.optional(),
  apiUrl: httpsUrl.optional(),
});

const Auth = z.strictObject({
  builtinUsers: z.boolean().optional(),
  oidc: z.array(OidcProvider).optional(),
  github: Forge.optional(),
  gitlab: Forge.optional(),
  bitbucket: Forge.optional(),
});

type RawAuth = z.infer<typeof Auth>;

/** auth.oidc[0].issuer */
function settingPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`),
    "auth",
  );
}

function readSecret(file: string, setting: string, problems: string[]): string {
  try {
    const s = readFileSync(file, "utf8").trim();
    if (s.length === 0) problems.push(`${setting}: ${file} is empty`);
    return s;
  } catch (err) {
    problems.push(
      `${setting}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
    return "";
  }
}

function toGrant(g: z.infer<typeof grant>): GroupGrant {
  if (g === "server-admin") return { kind: "server-admin" };
  return g.repository === undefined
    ? { kind: "organization", organization: g.organization, role: g.role }
    : { kind: "repository", organization: g.organization, repository: g.repository, role: g.role };
}

function compile(raw: RawAuth, source: string, problems: string[]): SsoSettings {
  const oidc = (raw.oidc ?? []).map((p, i): OidcSettings => {
    const where = `${source}auth.oidc[${i}]`;
    if ((raw.oidc ?? []).findIndex((q) => q.id === p.id) !== i)
      problems.push(`${where}.id: ${p.id} is used by an earlier provider`);
    if (p.groupRoles !== undefined && p.groupsClaim === undefined)
      problems.push(`${where}.groupRoles: needs groupsClaim (the claim holding the groups)`);
    return {
      id: p.id,
      name: p.name ?? p.id,
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret: readSecret(p.clientSecretFile, `${where}.clientSecretFile`, problems),
      scopes: p.scopes ?? DEFAULT_OIDC_SCOPES,
      algorithms: p.algorithms ?? DEFAULT_OIDC_ALGORITHMS,
      ...(p.groupsClaim !== undefined ? { groupsClaim: p.groupsClaim } : {}),
      groupRoles: Object.fromEntries(
        Object.entries(p.groupRoles ?? {}).map(([g, v]) => [g, [v].flat().map(toGrant)]),
      ),
    };
  });
  const forges = FORGES.flatMap((kind): ForgeSettings[] => {
    const f = raw[kind];
    if (!f) return [];
    const d = FORGE_DEFAULTS[kind];
    const url = f.url ?? d.url;
    return [
      {
        kind,
        name: f.name ?? d.name,
        clientId: f.clientId,
        clientSecret: readSecret(f.clientSecretFile, `${source}auth.${kind}.clientSecretFile`, problems),
        url,
        apiUrl: f.apiUrl ?? d.apiUrl(url),
      },
    ];
  });
  return { builtinUsers: raw.builtinUsers ?? true, oidc, forges };
}

/**
 * The `auth` section (raw, from the file; undefined when absent) with AIRLOCK_BUILTIN_USERS on
 * top. Problems are appended to `problems`; the result is then not to be used.
 */
export function loadAuthConfig(
  raw: unknown,
  o: { file: string | undefined; env: NodeJS.ProcessEnv; problems: string[] },
): SsoSettings {
  const source = o.file ? `${o.file}: ` : "";
  let settings: SsoSettings = { ...DEFAULT_SSO_SETTINGS };
  if (raw !== undefined) {
    const parsed = Auth.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const inline = issue.code === "unrecognized_keys" && issue.keys.includes("clientSecret");
        o.problems.push(
          inline
            ? `${source}${settingPath([...issue.path, "clientSecret"])}: secrets are not written in the configuration: put it in a file readable only by the server and give clientSecretFile`
            : `${source}${settingPath(issue.path)}: ${issue.message}`,
        );
      }
      return settings;
    }
    settings = compile(parsed.data, source, o.problems);
  }
  const env = o.env.AIRLOCK_BUILTIN_USERS;
  if (env !== undefined && env !== "") {
    if (/^(true|1|yes)$/i.test(env.trim())) settings.builtinUsers = true;
    else if (/^(false|0|no)$/i.test(env.trim())) settings.builtinUsers = false;
    else o.problems.push(`AIRLOCK_BUILTIN_USERS: expected true or false, got '${env}'`);
  }
  return settings;
}

/** Start-up refuses a server nobody could log into. */
export function checkAuthConfig(s: SsoSettings, problems: string[]): void {
  if (!s.builtinUsers && s.oidc.length === 0 && s.forges.length === 0)
    problems.push(
      "auth.builtinUsers: false needs at least one single sign-on provider (auth.oidc, auth.github, auth.gitlab or auth.bitbucket)",
    );
}
