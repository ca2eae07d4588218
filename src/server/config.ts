// The server's options, compiled once: defaults < config file (YAML or JSON) < AIRLOCK_* environment
// < explicit overrides. Every setting is validated with zod; a bad one stops start-up with ONE line
// per bad setting naming where it came from ("AIRLOCK_PORT: expected an integer 1-65535, got 'x'").
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { BlobStoreSettings } from "../artifacts/index.js";
import type { SsoSettings } from "../auth/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { KmsSettings } from "../secrets/index.js";
import { checkAuthConfig, loadAuthConfig } from "./auth-config.js";
import { loadBlobStoreConfig } from "./blob-store-config.js";
import { loadKmsConfig } from "./kms-config.js";

export interface ServerConfig {
  listenHost: string;
  listenPort: number;
  /** Base of every link the server hands out (run, log and webhook URLs); no trailing slash. */
  publicUrl: string;
  dataDir: string;
  /** External PostgreSQL; undefined = the embedded server in `<dataDir>/postgres`. */
  databaseUrl: string | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** How long a job's lease lasts without a heartbeat. */
  leaseMs: number;
  /** How often agents heartbeat (must be well below leaseMs). */
  heartbeatMs: number;
  /** Attempts of a job whose lease expires before it is marked lost. */
  maxAttempts: number;
  /** Per-job log cap; past it, output is dropped with a visible marker. */
  logCapBytes: number;
  /** Jobs placed per scheduling pass. */
  dispatchBatch: number;
  /** Largest JSON request body of the API (webhooks have their own cap). */
  apiBodyLimitBytes: number;
  /** Comment lines on idle log streams keep proxies from closing them. */
  sseHeartbeatMs: number;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges): the client
   * address that throttling and the audit log use. Empty: the peer's address.
   */
  trustProxy: string[];
  /** Days a job identity token signing key signs before a new one takes over (docs/security.md). */
  idTokenKeyDays: number;
  /** How often queued commit statuses are sent to the forges (0: never on a timer). */
  forgeStatusIntervalMs: number;
  /** First retry delay of a commit status a forge did not take (doubled each attempt). */
  forgeStatusRetryMs: number;
  /** Attempts before a commit status is given up, its last error kept. */
  forgeStatusAttempts: number;
  /** A repository's finalized artifact bytes unless its artifact policy says otherwise. */
  artifactQuotaBytes: number;
  /** Hours after which an artifact upload never finalized is removed with its staged parts. */
  artifactStaleUploadHours: number;
  /** How often the retention sweep deletes expired artifacts and abandoned uploads (0: never). */
  artifactSweepIntervalMs: number;
  /** Built-in users on or off, single sign-on providers (the file's `auth` section: auth-config.ts). */
  auth: SsoSettings;
  /** The KMS at the top of the secrets' key hierarchy (the file's `kms` section: kms-config.ts). */
  kms: KmsSettings;
  /** Where artifact and cache blobs live: local (default) or S3 (the file's `blobStore` section: blob-store-config.ts). */
  blobStore: BlobStoreSettings;
}

interface Setting {
  key: Exclude<keyof ServerConfig, "auth" | "kms" | "blobStore">;
  env: string[];
  schema: z.ZodType;
  /** What a valid value looks like, for the error line. */
  expected: string;
}

const int = (min: number, max: number): z.ZodType => z.number().int().min(min).max(max);
const ms = (min: number): z.ZodType => int(min, 24 * 3600 * 1000);

const SETTINGS: Setting[] = [
  { key: "listenHost", env: ["AIRLOCK_HOST"], schema: z.string().min(1), expected: "a host name or address" },
  { key: "listenPort", env: ["AIRLOCK_PORT"], schema: int(0, 65535), expected: "an integer 0-65535" },
  {
    key: "publicUrl",
    env: ["AIRLOCK_PUBLIC_URL"],
    schema: z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/),
    expected: "an http(s):// URL without query or fragment",
  },
  {
    key: "dataDir",
    env: ["AIRLOCK_DATA_DIR", "AIRLOCK_HOME"],
    schema: z.string().min(1),
    expected: "a folder",
  },
  {
    key: "databaseUrl",
    env: ["AIRLOCK_DATABASE_URL", "DATABASE_URL"],
    schema: z.string().regex(/^postgres(ql)?:\/\//),
    expected: "a postgres:// URL",
  },
  {
    key: "logLevel",
    env: ["AIRLOCK_LOG_LEVEL"],
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    expected: "one of fatal, error, warn, info, debug, trace, silent",
  },
  { key: "leaseMs", env: ["AIRLOCK_LEASE_MS"], schema: ms(1000), expected: "milliseconds, at least 1000" },
  {
    key: "heartbeatMs",
    env: ["AIRLOCK_HEARTBEAT_MS"],
    schema: ms(100),
    expected: "milliseconds, at least 100",
  },
  { key: "maxAttempts", env: ["AIRLOCK_MAX_ATTEMPTS"], schema: int(1, 100), expected: "an integer 1-100" },
  {
    key: "logCapBytes",
    env: ["AIRLOCK_LOG_CAP_BYTES"],
    schema: int(1024, Number.MAX_SAFE_INTEGER),
    expected: "bytes, at least 1024",
  },
  {
    key: "dispatchBatch",
    env: ["AIRLOCK_DISPATCH_BATCH"],
    schema: int(1, 10000),
    expected: "an integer 1-10000",
  },
  {
    key: "apiBodyLimitBytes",
    env: ["AIRLOCK_API_BODY_LIMIT_BYTES"],
    schema: int(1024, 1024 * 1024 * 1024),
    expected: "bytes, at least 1024",
  },
  {
    key: "trustProxy",
    env: ["AIRLOCK_TRUST_PROXY"],
    schema: z.preprocess(
      (v) =>
        typeof v === "string"
          ? v
              .split(",")
              .map((x) => x.trim())
              .filter((x) => x !== "")
          : v,
      z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()])).max(100),
    ),
    expected: "IP addresses or CIDR ranges (a list, or comma-separated)",
  },
  {
    key: "sseHeartbeatMs",
    env: ["AIRLOCK_SSE_HEARTBEAT_MS"],
    schema: ms(10),
    expected: "milliseconds, at least 10",
  },
  {
    key: "idTokenKeyDays",
    env: ["AIRLOCK_ID_TOKEN_KEY_DAYS"],
    schema: int(1, 365),
    expected: "days, an integer 1-365",
  },
  {
    key: "forgeStatusIntervalMs",
    env: ["AIRLOCK_FORGE_STATUS_INTERVAL_MS"],
    schema: int(0, 3600 * 1000),
    expected: "milliseconds 0-3600000 (0: never on a timer)",
  },
  {
    key: "forgeStatusRetryMs",
    env: ["AIRLOCK_FORGE_STATUS_RETRY_MS"],
    schema: int(0, 3600 * 1000),
    expected: "milliseconds 0-3600000",
  },
  {
    key: "forgeStatusAttempts",
    env: ["AIRLOCK_FORGE_STATUS_ATTEMPTS"],
    schema: int(1, 100),
    expected: "an integer 1-100",
  },
  {
    key: "artifactQuotaBytes",
    env: ["AIRLOCK_ARTIFACT_QUOTA_BYTES"],
    schema: int(0, Number.MAX_SAFE_INTEGER),
    expected: "bytes, a whole number",
  },
  {
    key: "artifactStaleUploadHours",
    env: ["AIRLOCK_ARTIFACT_STALE_UPLOAD_HOURS"],
    schema: int(1, 24 * 90),
    expected: "hours, an integer 1-2160",
  },
  {
    key: "artifactSweepIntervalMs",
    env: ["AIRLOCK_ARTIFACT_SWEEP_INTERVAL_MS"],
    schema: int(0, 24 * 3600 * 1000),
    expected: "milliseconds 0-86400000 (0: never on a timer)",
  },
];

function defaults(): Omit<ServerConfig, "publicUrl" | "auth" | "kms" | "blobStore"> {
  return {
    listenHost: "127.0.0.1",
    listenPort: 8420,
    // Root's home is closed to other users, and the embedded PostgreSQL runs as an unprivileged one.
    dataDir: process.getuid?.() === 0 ? "/var/lib/airlock" : join(homedir(), ".airlock"),
    databaseUrl: undefined,
    logLevel: "info",
    leaseMs: 30_000,
    heartbeatMs: 5_000,
    maxAttempts: 3,
    logCapBytes: 50 * 1024 * 1024,
    dispatchBatch: 100,
    apiBodyLimitBytes: 1024 * 1024,
    sseHeartbeatMs: 15_000,
    trustProxy: [],
    idTokenKeyDays: 30,
    forgeStatusIntervalMs: 2000,
    forgeStatusRetryMs: 10_000,
    forgeStatusAttempts: 8,
    artifactQuotaBytes: 10 * 1024 ** 3,
    artifactStaleUploadHours: 24,
    artifactSweepIntervalMs: 10 * 60 * 1000,
  };
}

export interface LoadServerConfigOptions {
  /** A YAML or JSON file whose keys are ServerConfig's (camelCase). */
  file?: string;
  env: NodeJS.ProcessEnv;
  /** Highest precedence (e.g. command-line flags); `auth`, `kms` and `blobStore` are taken as given (compiled). */
  overrides?: Partial<ServerConfig>;
}

export function loadServerConfig(opts: LoadServerConfigOptions): ServerConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = { ...defaults() };
  const {
    auth: rawAuth,
    kms: rawKms,
    blobStore: rawBlobStore,
    ...fromFile
  } = opts.file ? readConfigFile(opts.file, problems) : {};
  values.auth = loadAuthConfig(rawAuth, { file: opts.file, env: opts.env, problems });
  for (const [key, raw] of Object.entries(fromFile)) {
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting) problems.push(`${opts.file}: ${key}: unknown setting`);
    else accept(setting, raw, `${opts.file}: ${key}`, values, problems);
  }
  for (const setting of SETTINGS) {
    const name = setting.env.find((n) => opts.env[n] !== undefined && opts.env[n] !== "");
    if (name) accept(setting, fromEnv(opts.env[name] as string), name, values, problems);
  }
  const {
    auth: authOverride,
    kms: kmsOverride,
    blobStore: storeOverride,
    ...overrides
  } = opts.overrides ?? {};
  if (authOverride !== undefined) values.auth = authOverride;
  for (const [key, raw] of Object.entries(overrides)) {
    const setting = SETTINGS.find((s) => s.key === key);
    if (setting && raw !== undefined) accept(setting, raw, key, values, problems);
  }
  // The key file's default lives in the data folder, so the KMS is read once that is known.
  values.kms =
    kmsOverride ??
    loadKmsConfig(rawKms, { file: opts.file, env: opts.env, dataDir: String(values.dataDir), problems });
  values.blobStore =
    storeOverride ?? loadBlobStoreConfig(rawBlobStore, { file: opts.file, env: opts.env, problems });
  const config = values as unknown as ServerConfig;
  if (problems.length === 0 && config.heartbeatMs * 2 > config.leaseMs)
    problems.push(
      `heartbeatMs: expected at most half of leaseMs (${config.leaseMs}), got ${config.heartbeatMs}`,
    );
  if (problems.length === 0) checkAuthConfig(config.auth, problems);
  if (problems.length > 0)
    throw new AirlockError(
      ErrorCode.CONFIG_INVALID,
      // One problem, one line; several are listed one a line under the heading.
      problems.length === 1
        ? `invalid server configuration: ${problems[0]}`
        : `invalid server configuration:\n${problems.join("\n")}`,
      {
        details: problems,
      },
    );
  config.publicUrl = (config.publicUrl ?? defaultPublicUrl(config)).replace(/\/+$/, "");
  return config;
}

function accept(
  s: Setting,
  raw: unknown,
  source: string,
  into: Record<string, unknown>,
  problems: string[],
): void {
  const parsed = s.schema.safeParse(raw);
  if (parsed.success) into[s.key] = parsed.data;
  else problems.push(`${source}: expected ${s.expected}, got ${show(raw)}`);
}

/** Environment values are strings; those that look like numbers are numbers. */
function fromEnv(v: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v;
}

function show(v: unknown): string {
  return typeof v === "string" ? `'${v}'` : JSON.stringify(v);
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    problems.push(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return {};
  }
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    problems.push(`${file}: not valid YAML or JSON (${(err as Error).message.split("\n")[0]})`);
    return {};
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    problems.push(`${file}: expected a mapping of settings`);
    return {};
  }
  return data as Record<string, unknown>;
}

function defaultPublicUrl(c: Pick<ServerConfig, "listenHost" | "listenPort">): string {
  const wildcard = c.listenHost === "0.0.0.0" || c.listenHost === "::";
  const host = wildcard ? "localhost" : c.listenHost.includes(":") ? `[${c.listenHost}]` : c.listenHost;
  return `http://${host}:${c.listenPort}`;
}
