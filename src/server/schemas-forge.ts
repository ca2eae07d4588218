// Zod schema of PUT /repositories/:id/forge (routes/forge.ts): the forge a repository's commit
// statuses go to. A field given sets, null clears (back to inferred), absent keeps.
import { z } from "zod";
import { FORGE_KINDS } from "../forge-status/index.js";

/** An http(s) API base without credentials, query or fragment (the token is sent in a header). */
const ApiUrl = z
  .string()
  .max(2000)
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (
          (u.protocol === "https:" || u.protocol === "http:") &&
          u.username === "" &&
          u.password === "" &&
          u.search === "" &&
          u.hash === ""
        );
      } catch {
        return false;
      }
    },
    { message: "expected an http(s):// URL without user, password, query or fragment" },
  )
  .transform((v) => v.replace(/\/+$/, ""));

export const RepositoryForgeBody = z.strictObject({
  kind: z.enum(FORGE_KINDS).nullable().optional(),
  apiUrl: ApiUrl.nullable().optional(),
});
export type RepositoryForgeBody = z.input<typeof RepositoryForgeBody>;
