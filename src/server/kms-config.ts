// The `kms` section of the server's configuration, compiled into KmsSettings: the `local` provider
// (default; a key file, `<dataDir>/kms.key` unless kms.keyFile says otherwise) or `pkcs11` (an HSM:
// module, the token by slot id or label, a PIN file, the keys' label). Each setting also has an
// AIRLOCK_KMS_* environment form, which wins over the file. The PIN is never written in the
// configuration or on a command line: kms.pkcs11.pinFile (mode 0600, trimmed) or the
// AIRLOCK_KMS_PKCS11_PIN environment variable. Every problem is one line naming the setting.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Redacted, type KmsSettings } from "../secrets/index.js";

const Pkcs11 = z.strictObject({
  module: z.string().min(1).optional(),
  slot: z.number().int().min(0).optional(),
  tokenLabel: z.string().min(1).max(32).optional(),
  pinFile: z.string().min(1).optional(),
  keyLabel: z.string().min(1).max(100).optional(),
});

const Kms = z.strictObject({
  provider: z.enum(["local", "pkcs11"], { message: "expected local or pkcs11" }).optional(),
  keyFile: z.string().min(1).optional(),
  pkcs11: Pkcs11.optional(),
});

type Raw = z.infer<typeof Kms>;

const ENV = {
  provider: "AIRLOCK_KMS_PROVIDER",
  keyFile: "AIRLOCK_KMS_KEY_FILE",
  module: "AIRLOCK_KMS_PKCS11_MODULE",
  slot: "AIRLOCK_KMS_PKCS11_SLOT",
  tokenLabel: "AIRLOCK_KMS_PKCS11_TOKEN_LABEL",
  pinFile: "AIRLOCK_KMS_PKCS11_PIN_FILE",
  pin: "AIRLOCK_KMS_PKCS11_PIN",
  keyLabel: "AIRLOCK_KMS_PKCS11_KEY_LABEL",
} as const;

export const DEFAULT_KMS_KEY_LABEL = "airlock-kms";

function readPin(file: string, setting: string, problems: string[]): string {
  try {
    if ((statSync(file).mode & 0o077) !== 0) {
      problems.push(`${setting}: ${file} is open to other users: chmod 600 ${file}`);
      return "";
    }
    const pin = readFileSync(file, "utf8").trim();
    if (pin === "") problems.push(`${setting}: ${file} is empty`);
    return pin;
  } catch (err) {
    problems.push(
      `${setting}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
    return "";
  }
}

/** The file's section with the environment on top; undefined when a problem was found. */
function merge(raw: unknown, source: string, env: NodeJS.ProcessEnv, problems: string[]): Raw | undefined {
  const parsed = Kms.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const inline = issue.code === "unrecognized_keys" && issue.keys.includes("pin");
      const where = ["kms", ...issue.path.map(String)].join(".");
      problems.push(
        inline
          ? `${source}${where}.pin: the PIN is not written in the configuration: put it in a file readable only by the server and give kms.pkcs11.pinFile`
          : `${source}${where}: ${issue.message}`,
      );
    }
    return undefined;
  }
  const r: Raw = { ...parsed.data, pkcs11: { ...parsed.data.pkcs11 } };
  const get = (name: string): string | undefined => (env[name] === "" ? undefined : env[name]);
  const provider = get(ENV.provider);
  if (provider !== undefined) {
    if (provider === "local" || provider === "pkcs11") r.provider = provider;
    else problems.push(`${ENV.provider}: expected local or pkcs11, got '${provider}'`);
  }
  r.keyFile = get(ENV.keyFile) ?? r.keyFile;
  const p = r.pkcs11!;
  p.module = get(ENV.module) ?? p.module;
  p.tokenLabel = get(ENV.tokenLabel) ?? p.tokenLabel;
  p.pinFile = get(ENV.pinFile) ?? p.pinFile;
  p.keyLabel = get(ENV.keyLabel) ?? p.keyLabel;
  const slot = get(ENV.slot);
  if (slot !== undefined) {
    if (/^\d+$/.test(slot.trim())) p.slot = Number(slot.trim());
    else problems.push(`${ENV.slot}: expected a slot id (a whole number), got '${slot}'`);
  }
  return r;
}

/**
 * The `kms` section (raw, from the file; undefined when absent) with AIRLOCK_KMS_* on top.
 * Problems are appended to `problems`; the result is then not to be used.
 */
export function loadKmsConfig(
  raw: unknown,
  o: { file: string | undefined; env: NodeJS.ProcessEnv; dataDir: string; problems: string[] },
): KmsSettings {
  const source = o.file ? `${o.file}: ` : "";
  const fallback: KmsSettings = { provider: "local", keyFile: join(o.dataDir, "kms.key") };
  const r = merge(raw, source, o.env, o.problems);
  if (!r) return fallback;
  if ((r.provider ?? "local") === "local")
    return { provider: "local", keyFile: r.keyFile ?? fallback.keyFile };
  const p = r.pkcs11 ?? {};
  const before = o.problems.length;
  if (p.module === undefined)
    o.problems.push(`${source}kms.pkcs11.module: required with provider pkcs11 (the PKCS#11 module's path)`);
  if ((p.slot === undefined) === (p.tokenLabel === undefined))
    o.problems.push(`${source}kms.pkcs11: name the token by slot or by tokenLabel (one of them)`);
  const envPin = o.env[ENV.pin];
  let pin = "";
  if (p.pinFile !== undefined && envPin)
    o.problems.push(`${ENV.pin}: give the PIN one way: kms.pkcs11.pinFile or ${ENV.pin}`);
  else if (p.pinFile !== undefined) pin = readPin(p.pinFile, `${source}kms.pkcs11.pinFile`, o.problems);
  else if (envPin) pin = envPin.trim();
  else o.problems.push(`${source}kms.pkcs11.pinFile: required with provider pkcs11 (or ${ENV.pin})`);
  if (o.problems.length > before) return fallback;
  return {
    provider: "pkcs11",
    module: p.module!,
    ...(p.slot !== undefined ? { slot: p.slot } : { tokenLabel: p.tokenLabel! }),
    pin: new Redacted(pin),
    keyLabel: p.keyLabel ?? DEFAULT_KMS_KEY_LABEL,
  };
}
