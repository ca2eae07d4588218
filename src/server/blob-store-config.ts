// The `blobStore` section of the server's configuration, compiled into BlobStoreSettings: where the
// artifact and cache blobs live. `local` (default): under the data folder. `s3`: an S3-compatible
// bucket (endpoint, region, bucket, prefix, path-style URLs). Each setting also has an
// AIRLOCK_BLOB_STORE / AIRLOCK_S3_* environment form, which wins over the file. The secret access
// key is never written in the configuration: blobStore.secretAccessKeyFile (mode 0600, trimmed) or
// AIRLOCK_S3_SECRET_ACCESS_KEY; with no key configured at all, the AWS SDK's standard chain is used
// (AWS_* variables, profiles, instance roles). Every problem is one line naming the setting.
import { readFileSync, statSync } from "node:fs";
import { z } from "zod";
import type { BlobStoreSettings } from "../artifacts/index.js";
import { Redacted } from "../secrets/index.js";

const Raw = z.strictObject({
  kind: z.enum(["local", "s3"], { message: "expected local or s3" }).optional(),
  endpoint: z
    .string()
    .regex(/^https?:\/\/[^\s/?#]+\/?$/, {
      message: "expected an http(s):// URL of the server, without a path",
    })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, { message: "expected a region name (us-east-1)" })
    .optional(),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "expected a bucket name (3-63 of a-z 0-9 . -)" })
    .optional(),
  prefix: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]*$/, {
      message: "expected key segments of A-Za-z0-9 . _ - separated by / (no leading /)",
    })
    .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), { message: "no . or .. segments" })
    .optional(),
  forcePathStyle: z.boolean({ message: "expected true or false" }).optional(),
  accessKeyId: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, { message: "expected an access key id" })
    .optional(),
  secretAccessKeyFile: z.string().min(1).optional(),
});
type Raw = z.infer<typeof Raw>;

const ENV = {
  kind: "AIRLOCK_BLOB_STORE",
  endpoint: "AIRLOCK_S3_ENDPOINT",
  region: "AIRLOCK_S3_REGION",
  bucket: "AIRLOCK_S3_BUCKET",
  prefix: "AIRLOCK_S3_PREFIX",
  forcePathStyle: "AIRLOCK_S3_FORCE_PATH_STYLE",
  accessKeyId: "AIRLOCK_S3_ACCESS_KEY_ID",
  secretAccessKeyFile: "AIRLOCK_S3_SECRET_ACCESS_KEY_FILE",
} as const;
const SECRET_ENV = "AIRLOCK_S3_SECRET_ACCESS_KEY";

function readSecret(file: string, setting: string, problems: string[]): string {
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      problems.push(`${setting}: ${file} is open to other users: chmod 600 ${file}`);
      return "";
    }
    const s = readFileSync(file, "utf8").trim();
    if (s === "") problems.push(`${setting}: ${file} is empty`);
    return s;
  } catch (err) {
    problems.push(
      `${setting}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
    return "";
  }
}

/** The file's section with the environment on top (each variable checked as its setting). */
function merge(raw: unknown, source: string, env: NodeJS.ProcessEnv, problems: string[]): Raw | undefined {
  const parsed = Raw.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const inline = issue.code === "unrecognized_keys" && issue.keys.includes("secretAccessKey");
      const where = ["blobStore", ...issue.path.map(String)].join(".");
      problems.push(
        inline
          ? `${source}${where}.secretAccessKey: secrets are not written in the configuration: put it in a file readable only by the server and give blobStore.secretAccessKeyFile`
          : `${source}${where}: ${issue.message}`,
      );
    }
    return undefined;
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    if (key !== "forcePathStyle") fromEnv[key] = v;
    else if (v === "true" || v === "false") fromEnv[key] = v === "true";
    else fromEnv[key] = v; // refused below, naming the variable
  }
  const checked = Raw.safeParse(fromEnv);
  if (!checked.success) {
    for (const issue of checked.error.issues)
      problems.push(`${ENV[issue.path[0] as keyof typeof ENV]}: ${issue.message}`);
    return undefined;
  }
  return { ...parsed.data, ...checked.data };
}

/**
 * The `blobStore` section (raw, from the file; undefined when absent) with AIRLOCK_BLOB_STORE and
 * AIRLOCK_S3_* on top. Problems are appended to `problems`; the result is then not to be used.
 */
export function loadBlobStoreConfig(
  raw: unknown,
  o: { file: string | undefined; env: NodeJS.ProcessEnv; problems: string[] },
): BlobStoreSettings {
  const source = o.file ? `${o.file}: ` : "";
  const r = merge(raw, source, o.env, o.problems);
  if (!r) return { kind: "local" };
  const before = o.problems.length;
  if ((r.kind ?? "local") === "local") {
    const s3Only = Object.keys(r).filter((k) => k !== "kind");
    for (const k of s3Only) o.problems.push(`${source}blobStore.${k}: only with blobStore.kind s3`);
    return { kind: "local" };
  }
  if (r.bucket === undefined)
    o.problems.push(`${source}blobStore.bucket: required with kind s3 (or ${ENV.bucket})`);
  const envSecret = o.env[SECRET_ENV];
  let secret: string | undefined;
  if (r.secretAccessKeyFile !== undefined && envSecret)
    o.problems.push(
      `${SECRET_ENV}: give the secret access key one way: blobStore.secretAccessKeyFile or ${SECRET_ENV}`,
    );
  else if (r.secretAccessKeyFile !== undefined)
    secret = readSecret(r.secretAccessKeyFile, `${source}blobStore.secretAccessKeyFile`, o.problems);
  else if (envSecret) secret = envSecret.trim();
  if ((secret === undefined) !== (r.accessKeyId === undefined))
    o.problems.push(
      `${source}blobStore.accessKeyId: give the access key id with its secret (secretAccessKeyFile or ${SECRET_ENV}), or neither for the AWS SDK's standard credentials`,
    );
  if (o.problems.length > before) return { kind: "local" };
  const prefix = r.prefix ?? "";
  return {
    kind: "s3",
    ...(r.endpoint !== undefined ? { endpoint: r.endpoint.replace(/\/+$/, "") } : {}),
    region: r.region ?? "us-east-1",
    bucket: r.bucket!,
    prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`,
    // Most S3-compatible servers want path-style URLs; AWS itself prefers virtual hosts.
    forcePathStyle: r.forcePathStyle ?? r.endpoint !== undefined,
    ...(secret !== undefined && r.accessKeyId !== undefined
      ? { credentials: { accessKeyId: r.accessKeyId, secretAccessKey: new Redacted(secret) } }
      : {}),
  };
}
