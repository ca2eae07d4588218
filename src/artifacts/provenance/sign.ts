// Signing an artifact's provenance: the statement is built from what the control plane recorded,
// serialized once, and signed with the organization's provenance key (DSSE, Ed25519). The
// envelope is what is stored beside the artifact and handed to `airlock verify`.
import type { Db, Kms } from "../../secrets/index.js";
import { signEnvelope, type Envelope } from "./dsse.js";
import { provenanceSigningKey } from "./keys.js";
import { buildStatement, type ProvenanceInput, type Statement } from "./statement.js";

export interface SignedProvenance {
  envelope: Envelope;
  statement: Statement;
  keyid: string;
}

/** The DSSE envelope of `input`'s statement, signed with the organization's provenance key. */
export async function signProvenance(
  db: Db,
  kms: Kms,
  organizationId: number,
  input: ProvenanceInput,
): Promise<SignedProvenance> {
  const statement = buildStatement(input);
  const { keyid, key } = await provenanceSigningKey(db, kms, organizationId);
  const envelope = signEnvelope(Buffer.from(JSON.stringify(statement), "utf8"), key);
  return { envelope, statement, keyid };
}

/** The file form of an envelope (what `airlock verify` reads): JSON and a final newline. */
export function envelopeFile(envelope: Envelope): string {
  return `${JSON.stringify(envelope, null, 2)}\n`;
}
