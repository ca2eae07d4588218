// Zod schemas of the secrets and variables routes (routes/secrets.ts), beside schemas.ts so the
// OpenAPI document is generated from what is enforced. Names are checked loosely here and by
// GitHub's rules in src/secrets (one line naming every problem, SECRET_INVALID); the value's size
// (48 KB) is checked there too, after the request body limit.
import { z } from "zod";
import { PositiveId } from "./schemas.js";

const name = z.string().min(1).max(100);
const item = z.string().min(1).max(1000);
const env = z.string().min(1).max(1000);

/** Where secrets and variables live: an organization, a repository, an environment of one. */
export type PlaceKind = "organization" | "repository" | "environment";
export type ItemKind = "secret" | "variable";

export const PLACE_PARAMS = {
  organization: z.object({ name }),
  repository: z.object({ id: PositiveId }),
  environment: z.object({ id: PositiveId, env }),
} as const;

/** The path prefix of each place, under /api/v1. */
export const PLACE_PATH: Record<PlaceKind, string> = {
  organization: "/organizations/:name",
  repository: "/repositories/:id",
  environment: "/repositories/:id/environments/:env",
};

/** …/secrets/:secret or …/variables/:variable. */
export function itemParams(place: PlaceKind, kind: ItemKind): z.ZodObject {
  return PLACE_PARAMS[place].extend({ [kind]: item });
}

/** PUT …/secrets/:secret: the value, write-only (never shown again). */
export const SetSecret = z.strictObject({ value: z.string() });
/** PUT …/variables/:variable. */
export const SetVariable = z.strictObject({ value: z.string() });

export type SetSecretBody = z.infer<typeof SetSecret>;
export type SetVariableBody = z.infer<typeof SetVariable>;
