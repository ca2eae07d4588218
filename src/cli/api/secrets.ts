// The secrets and variables calls of the REST API v1 for the CLI: where (an organization, a
// repository, an environment of one) and list/set/remove. A secret's value goes in a request
// body only, and never comes back.
import type { ApiClient } from "./client.js";
import type { SecretInfo, VariableInfo } from "./types.js";

/** Where secrets and variables live: an organization by name, a repository by id (and an environment). */
export type ItemPlace = { organization: string } | { repository: number; environment?: string };
export type ItemKind = "secrets" | "variables";

export function placePath(p: ItemPlace): string {
  if ("organization" in p) return `/api/v1/organizations/${encodeURIComponent(p.organization)}`;
  const repo = `/api/v1/repositories/${p.repository}`;
  return p.environment === undefined ? repo : `${repo}/environments/${encodeURIComponent(p.environment)}`;
}

const path = (p: ItemPlace, kind: ItemKind, name?: string): string =>
  `${placePath(p)}/${kind}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

export function listSecrets(client: ApiClient, p: ItemPlace): Promise<SecretInfo[]> {
  return client.json("GET", path(p, "secrets"));
}

export function setSecret(client: ApiClient, p: ItemPlace, name: string, value: string): Promise<SecretInfo> {
  return client.json("PUT", path(p, "secrets", name), { value });
}

export function listVariables(client: ApiClient, p: ItemPlace): Promise<VariableInfo[]> {
  return client.json("GET", path(p, "variables"));
}

export function setVariable(
  client: ApiClient,
  p: ItemPlace,
  name: string,
  value: string,
): Promise<VariableInfo> {
  return client.json("PUT", path(p, "variables", name), { value });
}

export async function removeItem(
  client: ApiClient,
  p: ItemPlace,
  kind: ItemKind,
  name: string,
): Promise<void> {
  await client.json("DELETE", path(p, kind, name));
}
