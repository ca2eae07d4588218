// The `pkcs11` KMS provider: AES-256 keys inside an HSM (tested against SoftHSM2), never leaving
// it. The keys are secret-key objects labelled kms.pkcs11.keyLabel whose CKA_ID is their version
// (01, 02, ...); the highest version wraps, every one unwraps. Wrapping is CKM_AES_GCM through
// C_Encrypt with a random 96-bit IV, a 128-bit tag and the data key's binding as AAD — chosen over
// CKM_AES_KEY_WRAP_PAD because it binds the context, needs no session key objects, and is the
// same format as the local provider (IV ‖ ciphertext ‖ tag). Rotation generates a new key in the
// token (sensitive, not extractable); retiring destroys one. Calls on the one session are
// serialized; a lost session is reopened once.
import { randomBytes } from "node:crypto";
import type * as P from "pkcs11js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, unreadable } from "../envelope.js";
import {
  NOT_AUTHENTIC,
  SESSION_LOST,
  acquireModule,
  closeSession,
  findSlot,
  openSession,
  pkcs11Failed,
  releaseModule,
  rvOf,
  type Handle,
  type Pkcs11,
  type Pkcs11Module,
} from "./pkcs11-token.js";
import type { Kms, KmsSettings, WrappedKey } from "./types.js";

type Pkcs11Settings = Extract<KmsSettings, { provider: "pkcs11" }>;

interface TokenKey {
  id: string;
  version: number;
  handle: Handle;
}

export async function openPkcs11Kms(s: Pkcs11Settings): Promise<Kms> {
  const { lib, p } = await acquireModule(s.module);
  try {
    const kms = new Pkcs11Kms(s, lib, p);
    await kms.keyIds(); // opens the session, and there must be a key
    return kms;
  } catch (err) {
    await releaseModule(s.module);
    throw err;
  }
}

class Pkcs11Kms implements Kms {
  readonly provider = "pkcs11";
  private session: Handle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly s: Pkcs11Settings,
    private readonly lib: Pkcs11Module,
    private readonly p: Pkcs11,
  ) {}

  /** Runs `fn` alone on the session, reopening a lost session once. */
  private run<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.closed) throw new AirlockError(ErrorCode.KMS_FAILED, "PKCS#11: the KMS is closed");
      try {
        return await fn(this.open());
      } catch (err) {
        if (!SESSION_LOST.has(rvOf(err))) throw err;
        this.drop();
      }
      try {
        return await fn(this.open());
      } catch (err) {
        throw err instanceof AirlockError ? err : pkcs11Failed("the call, after reopening the session", err);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private open(): Handle {
    this.session ??= openSession(this.lib, this.p, findSlot(this.p, this.s), this.s.pin);
    return this.session;
  }

  private drop(): void {
    if (this.session) closeSession(this.p, this.session);
    this.session = undefined;
  }

  private keys(session: Handle): TokenKey[] {
    const { lib, p } = this;
    let handles: Handle[];
    try {
      p.C_FindObjectsInit(session, [
        { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
        { type: lib.CKA_KEY_TYPE, value: lib.CKK_AES },
        { type: lib.CKA_LABEL, value: this.s.keyLabel },
      ]);
      handles = p.C_FindObjects(session, 1000);
      p.C_FindObjectsFinal(session);
    } catch (err) {
      throw pkcs11Failed("C_FindObjects", err);
    }
    const keys = handles.map((handle): TokenKey => {
      let idAttr: P.Attribute | undefined;
      try {
        [idAttr] = p.C_GetAttributeValue(session, handle, [{ type: lib.CKA_ID }]);
      } catch (err) {
        throw pkcs11Failed("C_GetAttributeValue (CKA_ID)", err);
      }
      const raw = Buffer.isBuffer(idAttr?.value) ? idAttr.value : Buffer.alloc(0);
      const version = raw.length === 0 ? 0 : parseInt(raw.toString("hex"), 16);
      return { id: `pkcs11:${this.s.keyLabel}:${version}`, version, handle };
    });
    keys.sort((a, b) => a.version - b.version);
    const twice = keys.find((k, i) => i > 0 && keys[i - 1]!.version === k.version);
    if (twice)
      throw new AirlockError(
        ErrorCode.KMS_FAILED,
        `kms.pkcs11.keyLabel: two keys labelled '${this.s.keyLabel}' have version (CKA_ID) ${twice.version}`,
      );
    if (keys.length === 0)
      throw new AirlockError(
        ErrorCode.KMS_KEY_MISSING,
        `kms.pkcs11.keyLabel: the token holds no AES key labelled '${this.s.keyLabel}' (make one: pkcs11-tool --module ${this.s.module} --login --keygen --key-type AES:32 --label ${this.s.keyLabel} --id 01)`,
      );
    return keys;
  }

  private gcm(iv: Buffer, context: Buffer): P.Mechanism {
    const { lib } = this;
    const parameter: P.AesGCM = {
      type: lib.CK_PARAMS_AES_GCM,
      iv,
      aad: context,
      ivBits: NONCE_BYTES * 8,
      tagBits: TAG_BYTES * 8,
    };
    return { mechanism: lib.CKM_AES_GCM, parameter };
  }

  currentKeyId(): Promise<string> {
    return this.run((session) => this.keys(session).at(-1)!.id);
  }

  keyIds(): Promise<string[]> {
    return this.run((session) => this.keys(session).map((k) => k.id));
  }

  wrap(dek: Buffer, context: Buffer): Promise<WrappedKey> {
    return this.run(async (session) => {
      const key = this.keys(session).at(-1)!;
      const iv = randomBytes(NONCE_BYTES);
      try {
        this.p.C_EncryptInit(session, this.gcm(iv, context), key.handle);
        const out = await this.p.C_EncryptAsync(session, dek, Buffer.alloc(dek.length + TAG_BYTES + 16));
        return { keyId: key.id, wrapped: Buffer.concat([iv, out]) };
      } catch (err) {
        throw SESSION_LOST.has(rvOf(err)) ? err : pkcs11Failed("C_Encrypt (AES-GCM)", err);
      }
    });
  }

  unwrap(w: WrappedKey, context: Buffer): Promise<Buffer> {
    return this.run(async (session) => {
      const key = this.keys(session).find((k) => k.id === w.keyId);
      if (!key)
        throw new AirlockError(
          ErrorCode.KMS_KEY_MISSING,
          `the KMS key ${w.keyId} is not in the token (retired, or another token)`,
        );
      const what = `a data key wrapped by ${w.keyId}`;
      if (w.wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) throw unreadable(what);
      try {
        this.p.C_DecryptInit(session, this.gcm(w.wrapped.subarray(0, NONCE_BYTES), context), key.handle);
        return await this.p.C_DecryptAsync(session, w.wrapped.subarray(NONCE_BYTES), Buffer.alloc(64));
      } catch (err) {
        const rv = rvOf(err);
        if (SESSION_LOST.has(rv)) throw err;
        throw NOT_AUTHENTIC.has(rv) ? unreadable(what) : pkcs11Failed("C_Decrypt (AES-GCM)", err);
      }
    });
  }

  createKey(): Promise<string> {
    return this.run(async (session) => {
      const { lib } = this;
      const version = this.keys(session).at(-1)!.version + 1;
      const hex = version.toString(16);
      const id = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
      try {
        await this.p.C_GenerateKeyAsync(session, { mechanism: lib.CKM_AES_KEY_GEN }, [
          { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
          { type: lib.CKA_KEY_TYPE, value: lib.CKK_AES },
          { type: lib.CKA_VALUE_LEN, value: KEY_BYTES },
          { type: lib.CKA_TOKEN, value: true },
          { type: lib.CKA_PRIVATE, value: true },
          { type: lib.CKA_SENSITIVE, value: true },
          { type: lib.CKA_EXTRACTABLE, value: false },
          { type: lib.CKA_ENCRYPT, value: true },
          { type: lib.CKA_DECRYPT, value: true },
          { type: lib.CKA_LABEL, value: this.s.keyLabel },
          { type: lib.CKA_ID, value: id },
        ]);
      } catch (err) {
        throw pkcs11Failed("C_GenerateKey (AES-256)", err);
      }
      return `pkcs11:${this.s.keyLabel}:${version}`;
    });
  }

  destroyKey(keyId: string): Promise<void> {
    return this.run((session) => {
      const keys = this.keys(session);
      if (keys.at(-1)!.id === keyId)
        throw new AirlockError(
          ErrorCode.USAGE,
          `the KMS key ${keyId} is the current key: it cannot be retired`,
        );
      const key = keys.find((k) => k.id === keyId);
      if (!key) return;
      try {
        this.p.C_DestroyObject(session, key.handle);
      } catch (err) {
        throw pkcs11Failed("C_DestroyObject", err);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    this.drop();
    await releaseModule(this.s.module);
  }
}
