// Public face of the KMS providers: the Kms interface, the settings type, and openKms, which
// opens the configured provider. The local provider makes its key file only when told to (the
// composition root allows it when no data key has been wrapped yet, so a lost key file is an
// error rather than a silent new key).
import { openLocalKms } from "./local.js";
import { openPkcs11Kms } from "./pkcs11.js";
import type { Kms, KmsSettings } from "./types.js";

export { Redacted, type Kms, type KmsProvider, type KmsSettings, type WrappedKey } from "./types.js";

export interface OpenKmsOptions {
  /** Local provider: make the key file when it is missing (default true). */
  create?: boolean;
}

export function openKms(s: KmsSettings, o: OpenKmsOptions = {}): Promise<Kms> {
  return s.provider === "local" ? openLocalKms(s.keyFile, { create: o.create ?? true }) : openPkcs11Kms(s);
}
