// Small values sealed directly with an organization's data key (no DEK of their own), bound (AAD)
// to the organization, a purpose, a row and a name: used for keys that are themselves keys, such
// as job identity signing keys (src/job-identity), as run keys are. Crypto-shredding the
// organization key makes them unreadable (KEY_DESTROYED) like everything else it sealed.
import { aad, open, seal, wipe, type Purpose } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { liveOrganizationKey, organizationKeyById } from "./org-keys.js";
import type { Db } from "./scope.js";

export interface OrgSealedPlace {
  organizationId: number;
  purpose: Purpose;
  /** The row the value lives in. */
  id: number;
  name: string;
}

export interface OrgSealed {
  organizationKeyId: number;
  nonce: Buffer;
  ciphertext: Buffer;
}

function bind(p: OrgSealedPlace, organizationKeyId: number): Buffer {
  return aad({
    purpose: p.purpose,
    organizationId: p.organizationId,
    repositoryId: null,
    environment: null,
    id: p.id,
    name: p.name,
    version: null,
    organizationKeyId,
  });
}

/** Seals `plain` under the organization's live key (made if it has none). */
export async function sealForOrganization(
  db: Db,
  kms: Kms,
  place: OrgSealedPlace,
  plain: Buffer,
): Promise<OrgSealed> {
  const key = await liveOrganizationKey(db, kms, place.organizationId);
  try {
    return { organizationKeyId: key.id, ...seal(key.dek, plain, bind(place, key.id)) };
  } finally {
    wipe(key.dek);
  }
}

/** Opens what sealForOrganization sealed at the same place (SECRET_UNREADABLE, KEY_DESTROYED). */
export async function openForOrganization(
  db: Db,
  kms: Kms,
  place: OrgSealedPlace,
  sealed: OrgSealed,
): Promise<Buffer> {
  const key = await organizationKeyById(db, kms, sealed.organizationKeyId);
  try {
    const what = `${place.purpose} ${place.name} of organization ${place.organizationId}`;
    return open(key.dek, sealed, bind(place, sealed.organizationKeyId), what);
  } finally {
    wipe(key.dek);
  }
}
