// `airlock verify` without a network: the key file(s), the DSSE envelope, its signature over the
// PAE, the statement inside (in-toto v1, SLSA v1), the artifact's SHA-256 (streamed) among the
// subjects, and the policy. Checks run in that order and stop at the first failure — nothing in
// an unverified payload is looked at. Each check is one line; a failure is an AirlockError with a
// stable code and a one-line reason, never a stack trace (files are the user's, not our bugs).
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { IN_TOTO_PAYLOAD_TYPE, keyIdOf, verifyEnvelope, type Envelope } from "./dsse.js";
import { evaluatePolicy, parsePolicy, type Policy } from "./policy.js";
import { EnvelopeSchema, issuesLine, StatementSchema } from "./schema.js";
import { shown, some } from "./text.js";

/** Larger key, envelope or policy files are refused before reading (they are small by nature). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface VerifyFiles {
  artifact: string;
  provenance: string;
  /** Files of PEM public keys (several per file allowed). */
  keys: string[];
  policy?: string;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const fail = (code: ErrorCode, message: string): AirlockError => new AirlockError(code, message);
const short = (keyid: string): string => keyid.slice(0, 16);

function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a folder";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return (err as Error).message;
}

async function readSmall(path: string, what: string): Promise<string> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw Object.assign(new Error("is a folder"), { code: "EISDIR" });
    if (s.size > MAX_FILE_BYTES)
      throw fail(ErrorCode.PROVENANCE_MALFORMED, `${what} ${path} is larger than ${MAX_FILE_BYTES} bytes`);
    return await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof AirlockError) throw err;
    throw fail(ErrorCode.USAGE, `cannot read ${what} ${path}: ${ioReason(err)}`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every PEM public key in the files; Ed25519 only. */
export async function loadPublicKeys(files: string[]): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  for (const file of files) {
    const text = await readSmall(file, "key file");
    const blocks = [...text.matchAll(PEM_BLOCK)];
    if (blocks.length === 0)
      throw fail(ErrorCode.PROVENANCE_MALFORMED, `key file ${file} holds no PEM key (BEGIN PUBLIC KEY)`);
    for (const [pem, label] of blocks) {
      if (label !== "PUBLIC KEY")
        throw fail(ErrorCode.PROVENANCE_MALFORMED, `key file ${file} holds a ${label}, not a PUBLIC KEY`);
      let key: KeyObject;
      try {
        key = createPublicKey({ key: pem, format: "pem" });
      } catch {
        throw fail(ErrorCode.PROVENANCE_MALFORMED, `key file ${file} holds a public key that does not parse`);
      }
      if (key.asymmetricKeyType !== "ed25519")
        throw fail(
          ErrorCode.PROVENANCE_MALFORMED,
          `key file ${file} holds a ${key.asymmetricKeyType ?? "unknown"} key; provenance is signed with Ed25519`,
        );
      keys.push(key);
    }
  }
  return keys;
}

/** The DSSE envelope in a provenance file. */
export async function readEnvelope(path: string): Promise<Envelope> {
  const text = await readSmall(path, "provenance file");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw fail(ErrorCode.PROVENANCE_MALFORMED, `provenance file ${path} is not JSON`);
  }
  const r = EnvelopeSchema.safeParse(raw);
  if (!r.success)
    throw fail(
      ErrorCode.PROVENANCE_MALFORMED,
      `provenance file ${path} is not a DSSE envelope: ${issuesLine(r.error)}`,
    );
  return r.data;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    throw fail(ErrorCode.USAGE, `cannot read artifact ${path}: ${ioReason(err)}`);
  }
  return hash.digest("hex");
}

async function loadPolicy(path: string): Promise<Policy> {
  const parsed = parsePolicy(await readSmall(path, "policy file"));
  if ("problems" in parsed)
    throw fail(
      ErrorCode.PROVENANCE_MALFORMED,
      `policy file ${path}: ${parsed.problems.slice(0, 3).join("; ")}`,
    );
  return parsed.policy;
}

/**
 * Runs every check, calling `report` with each line as it is decided; throws the failing check's
 * AirlockError (after reporting it) or resolves when all pass.
 */
export async function verifyProvenance(files: VerifyFiles, report: (c: Check) => void): Promise<void> {
  const step = async <T>(name: string, run: () => Promise<[T, string]> | [T, string]): Promise<T> => {
    try {
      const [value, detail] = await run();
      report({ name, ok: true, detail });
      return value;
    } catch (err) {
      const e = err instanceof AirlockError ? err : fail(ErrorCode.PROVENANCE_MALFORMED, String(err));
      report({ name, ok: false, detail: e.message });
      throw e;
    }
  };
  if (files.keys.length === 0)
    throw fail(ErrorCode.USAGE, "verify needs --key <public key file> (airlock provenance key)");
  const keys = await step("keys", async () => {
    const k = await loadPublicKeys(files.keys);
    return [k, `${k.length} Ed25519 public key(s): ${k.map((x) => short(keyIdOf(x))).join(", ")}`];
  });
  const envelope = await step("envelope", async () => {
    const e = await readEnvelope(files.provenance);
    return [e, `DSSE envelope, ${e.signatures.length} signature(s), payload type ${shown(e.payloadType)}`];
  });
  const policy =
    files.policy === undefined
      ? undefined
      : await step("policy file", async () => {
          const p = await loadPolicy(files.policy!);
          return [p, `${Object.keys(p).length} rule(s): ${Object.keys(p).join(", ") || "none"}`];
        });
  const verified = await step("signature", () => {
    const v = verifyEnvelope(envelope, keys);
    if (v) return [v, `valid Ed25519 signature over the DSSE PAE by key ${short(v.keyid)}`];
    const given = new Set(keys.map(keyIdOf));
    const hinted = envelope.signatures.some((s) => s.keyid !== undefined && given.has(s.keyid));
    throw fail(
      ErrorCode.PROVENANCE_SIGNATURE_INVALID,
      hinted
        ? "the signature does not match: the provenance was altered (payload, type or signature bytes)"
        : `not signed by the given key(s): the envelope names key(s) ${some(envelope.signatures, (s) => shown(short(s.keyid ?? "(none)")))}`,
    );
  });
  const statement = await step("statement", () => {
    if (verified.payloadType !== IN_TOTO_PAYLOAD_TYPE)
      throw fail(
        ErrorCode.PROVENANCE_MALFORMED,
        `payload type ${shown(verified.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`,
      );
    let raw: unknown;
    try {
      raw = JSON.parse(verified.payload.toString("utf8"));
    } catch {
      throw fail(ErrorCode.PROVENANCE_MALFORMED, "the signed payload is not JSON");
    }
    const r = StatementSchema.safeParse(raw);
    if (!r.success)
      throw fail(
        ErrorCode.PROVENANCE_MALFORMED,
        `the signed payload is not an in-toto v1 statement with a SLSA v1 predicate: ${issuesLine(r.error)}`,
      );
    const s = r.data;
    return [
      s,
      `in-toto Statement v1, SLSA Provenance v1, builder ${shown(s.predicate.runDetails.builder.id)}`,
    ];
  });
  await step("artifact", async () => {
    const digest = await sha256File(files.artifact);
    const subject = statement.subject.find((s) => s.digest.sha256?.toLowerCase() === digest);
    if (!subject)
      throw fail(
        ErrorCode.PROVENANCE_SUBJECT_MISMATCH,
        `the artifact's SHA-256 ${digest} is not a subject of the provenance (subjects: ${some(statement.subject, (s) => `${shown(s.name ?? "_", 60)} ${shown(s.digest.sha256 ?? "(no sha256)", 64)}`)})`,
      );
    return [subject, `sha256 ${digest} is subject ${shown(subject.name ?? "_")}`];
  });
  await step("policy", () => {
    if (!policy) return [undefined, "none given (signature and digest only)"];
    const problems = evaluatePolicy(policy, statement);
    if (problems.length > 0)
      throw fail(ErrorCode.PROVENANCE_POLICY_VIOLATION, `policy not met: ${problems.join("; ")}`);
    return [undefined, `all ${Object.keys(policy).length} rule(s) met`];
  });
}
