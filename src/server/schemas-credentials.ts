// Zod schemas of the repository credential routes (routes/credentials.ts): which credential, and
// its value — write-only, never answered. The shapes are checked in src/secrets (one line,
// CREDENTIAL_INVALID, never naming the value).
import { z } from "zod";
import { SETTABLE_KINDS } from "../secrets/index.js";
import { PositiveId } from "./schemas.js";

export const CredentialParams = z.object({ id: PositiveId, kind: z.enum(SETTABLE_KINDS) });

/**
 * PUT /repositories/:id/credentials/:kind. `value`: the clone password, the deploy key's private
 * key (PEM or OpenSSH), or the forge token. `username` (clone-password; default x-access-token)
 * and `knownHosts` (deploy-key: known_hosts lines of the server) go with some kinds only.
 */
export const SetCredential = z.strictObject({
  value: z
    .string()
    .min(1)
    .max(16 * 1024),
  username: z.string().min(1).max(256).optional(),
  knownHosts: z
    .string()
    .max(64 * 1024)
    .optional(),
});
export type SetCredentialBody = z.infer<typeof SetCredential>;

/** What a listing shows of one credential: its kind, when and by whom it was set. */
export const CredentialInfoSchema = z.object({
  kind: z.string(),
  setAt: z.string(),
  setBy: z.string().nullable(),
});
