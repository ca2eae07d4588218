// Talking to a PKCS#11 token through pkcs11js: the module is loaded once per process and path
// (C_Initialize may be called only once; several KMS instances share it, and C_Finalize runs when
// the last one closes), the token is found by slot id or label, and one read/write session is
// opened and logged in with the user PIN. PKCS#11 failures become one-line AirlockErrors that name
// the call and its CKR_ code, never the PIN. pkcs11js is loaded lazily, so a server on the local
// provider never needs the native module.
import type * as P from "pkcs11js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Redacted } from "./types.js";

export type Pkcs11 = P.PKCS11;
export type Pkcs11Module = typeof P;
export type Handle = Buffer;

interface Loaded {
  lib: Pkcs11Module;
  p: Pkcs11;
  refs: number;
}

const modules = new Map<string, Promise<Loaded>>();

/** The CKR_ name of a pkcs11js error ("CKR_PIN_INCORRECT"), or the message's first line. */
export function rvOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /CKR_[A-Z0-9_]+/.exec(message)?.[0] ?? message.split("\n")[0]!.slice(0, 200);
}

export function pkcs11Failed(what: string, err: unknown): AirlockError {
  return new AirlockError(ErrorCode.KMS_FAILED, `PKCS#11: ${what} failed (${rvOf(err)})`, {
    retryable: true,
    cause: err,
  });
}

/** Loads and initializes the module at `path` (once per process), counting its users. */
export async function acquireModule(path: string): Promise<{ lib: Pkcs11Module; p: Pkcs11 }> {
  let entry = modules.get(path);
  if (!entry) {
    entry = (async () => {
      const lib = (await import("pkcs11js")).default;
      const p = new lib.PKCS11();
      try {
        p.load(path);
      } catch (err) {
        throw new AirlockError(
          ErrorCode.KMS_FAILED,
          `kms.pkcs11.module: ${path} cannot be loaded (${rvOf(err)})`,
          { cause: err },
        );
      }
      try {
        // Operations run on libuv's threads (the *Async calls): the module must lock itself.
        p.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
      } catch (err) {
        if (rvOf(err) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") throw pkcs11Failed("C_Initialize", err);
      }
      return { lib, p, refs: 0 };
    })();
    modules.set(path, entry);
    entry.catch(() => modules.delete(path));
  }
  const loaded = await entry;
  loaded.refs++;
  return loaded;
}

export async function releaseModule(path: string): Promise<void> {
  const entry = modules.get(path);
  if (!entry) return;
  const loaded = await entry;
  if (--loaded.refs > 0) return;
  modules.delete(path);
  try {
    loaded.p.C_Finalize();
  } catch {
    /* already finalized */
  }
}

export interface TokenAddress {
  slot?: number;
  tokenLabel?: string;
}

function slotId(h: Handle): bigint {
  return h.length >= 8 ? h.readBigUInt64LE(0) : BigInt(h.readUInt32LE(0));
}

/** The slot holding the configured token; one line naming the setting when there is none. */
export function findSlot(p: Pkcs11, where: TokenAddress): Handle {
  let slots: Handle[];
  try {
    slots = p.C_GetSlotList(true);
  } catch (err) {
    throw pkcs11Failed("C_GetSlotList", err);
  }
  if (where.slot !== undefined) {
    const found = slots.find((s) => slotId(s) === BigInt(where.slot!));
    if (!found)
      throw new AirlockError(ErrorCode.KMS_FAILED, `kms.pkcs11.slot: no token in slot ${where.slot}`);
    return found;
  }
  const found = slots.find((s) => {
    try {
      return p.C_GetTokenInfo(s).label.trim() === where.tokenLabel;
    } catch {
      return false;
    }
  });
  if (!found)
    throw new AirlockError(
      ErrorCode.KMS_FAILED,
      `kms.pkcs11.tokenLabel: no token labelled '${where.tokenLabel}'`,
    );
  return found;
}

/** A read/write session on `slot`, logged in as the user. */
export function openSession(lib: Pkcs11Module, p: Pkcs11, slot: Handle, pin: Redacted): Handle {
  let session: Handle;
  try {
    session = p.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
  } catch (err) {
    throw pkcs11Failed("C_OpenSession", err);
  }
  try {
    p.C_Login(session, lib.CKU_USER, pin.reveal());
  } catch (err) {
    // Logging in applies to every session of the process on this token: another one did it.
    if (rvOf(err) !== "CKR_USER_ALREADY_LOGGED_IN") {
      closeSession(p, session);
      throw new AirlockError(
        ErrorCode.KMS_FAILED,
        `kms.pkcs11.pinFile: the token refused the PIN (${rvOf(err)})`,
        { cause: err },
      );
    }
  }
  return session;
}

export function closeSession(p: Pkcs11, session: Handle): void {
  try {
    p.C_CloseSession(session);
  } catch {
    /* gone already */
  }
}

/** Return values that mean "the session is gone": reopen it and try once more. */
export const SESSION_LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
]);

/** Return values of a decryption that does not verify (the tag, the AAD, the bytes). */
export const NOT_AUTHENTIC = new Set([
  "CKR_ENCRYPTED_DATA_INVALID",
  "CKR_ENCRYPTED_DATA_LEN_RANGE",
  "CKR_AEAD_DECRYPT_FAILED",
  "CKR_DATA_INVALID",
  "CKR_DATA_LEN_RANGE",
  // SoftHSM2 answers a wrong GCM tag with this.
  "CKR_GENERAL_ERROR",
]);
