// The secrets and variables operations of the OpenAPI document (routes/secrets.ts): eight per
// place — an organization, a repository, an environment of a repository — with request schemas
// from schemas-secrets.ts, the same the routes enforce.
import { arr, int, obj, str, strOrNull, type Json, type Operation } from "./openapi-parts.js";
import {
  PLACE_PARAMS,
  PLACE_PATH,
  SetSecret,
  SetVariable,
  itemParams,
  type PlaceKind,
} from "./schemas-secrets.js";

const level = { enum: ["organization", "repository", "environment"] };
const changed = { createdAt: str, createdBy: str, updatedAt: str, updatedBy: str };
const Secret: Json = obj({ name: str, level, environment: strOrNull, version: int, ...changed });
const Variable: Json = obj({ name: str, value: str, level, environment: strOrNull, ...changed });

const WHERE: Record<PlaceKind, string> = {
  organization: "of an organization (every repository of it sees them)",
  repository: "of a repository",
  environment:
    "of an environment of a repository (jobs naming that environment see them; names are case-insensitive)",
};

function placeOperations(place: PlaceKind): Operation[] {
  const base = `/api/v1${PLACE_PATH[place]}`;
  const where = WHERE[place];
  const params = PLACE_PARAMS[place];
  const secret = itemParams(place, "secret");
  const variable = itemParams(place, "variable");
  return [
    {
      method: "get",
      path: `${base}/secrets`,
      summary: `The secrets ${where}: names, versions, dates and who changed them — never values`,
      params,
      ok: [200, arr(Secret)],
      errors: [400, 404],
    },
    {
      method: "get",
      path: `${base}/secrets/:secret`,
      summary: `One secret ${where}, without its value`,
      params: secret,
      ok: [200, Secret],
      errors: [400, 404],
    },
    {
      method: "put",
      path: `${base}/secrets/:secret`,
      summary: `Set a secret ${where}: sealed under the organization's key, write-only (201 new, 200 the next version). Names as GitHub's (letters, digits, _; not starting with a digit or GITHUB_; case-insensitive); values up to 48 KB (413 beyond)`,
      params: secret,
      body: SetSecret,
      ok: [200, Secret],
      errors: [400, 404, 409, 413, 503],
    },
    {
      method: "delete",
      path: `${base}/secrets/:secret`,
      summary: `Delete a secret ${where}`,
      params: secret,
      ok: [204, "Deleted"],
      errors: [400, 404],
    },
    {
      method: "get",
      path: `${base}/variables`,
      summary: `The configuration variables (the vars context) ${where}, with their values`,
      params,
      ok: [200, arr(Variable)],
      errors: [400, 404],
    },
    {
      method: "get",
      path: `${base}/variables/:variable`,
      summary: `One variable ${where}`,
      params: variable,
      ok: [200, Variable],
      errors: [400, 404],
    },
    {
      method: "put",
      path: `${base}/variables/:variable`,
      summary: `Create or replace a variable ${where} (201 new, 200 replaced); names as secrets', values up to 48 KB`,
      params: variable,
      body: SetVariable,
      ok: [200, Variable],
      errors: [400, 404, 409, 413],
    },
    {
      method: "delete",
      path: `${base}/variables/:variable`,
      summary: `Delete a variable ${where}`,
      params: variable,
      ok: [204, "Deleted"],
      errors: [400, 404],
    },
  ];
}

export const SECRETS_OPERATIONS: Operation[] = (
  ["organization", "repository", "environment"] as const
).flatMap(placeOperations);
