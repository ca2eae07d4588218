// The pools, authorizations and node placement calls of the REST API v1 for the CLI. Shapes come
// from the server's route schemas (src/server/schemas-pools.ts).
import type { z } from "zod";
import type * as P from "../../server/schemas-pools.js";
import type { Node } from "./types.js";
import type { ApiClient } from "./client.js";

export type PoolView = z.infer<typeof P.PoolView>;
export type AuthorizationView = z.infer<typeof P.AuthorizationView>;

const pool = (name: string): string => `/api/v1/pools/${encodeURIComponent(name)}`;

export const listPools = (c: ApiClient): Promise<PoolView[]> => c.json("GET", "/api/v1/pools");
export const createPool = (c: ApiClient, body: z.input<typeof P.CreatePool>): Promise<PoolView> =>
  c.json("POST", "/api/v1/pools", body);
export const setPoolGroup = (c: ApiClient, name: string, group: string | null): Promise<PoolView> =>
  c.json("PUT", `${pool(name)}/group`, { group });
export const setPoolDeploy = (c: ApiClient, name: string, deploy: boolean): Promise<PoolView> =>
  c.json("PUT", `${pool(name)}/deploy`, { deploy });
export async function removePool(c: ApiClient, name: string): Promise<void> {
  await c.json("DELETE", pool(name));
}

export function listAuthorizations(
  c: ApiClient,
  filter: { repository?: number; state?: string } = {},
): Promise<AuthorizationView[]> {
  const q = new URLSearchParams();
  if (filter.repository !== undefined) q.set("repository", String(filter.repository));
  if (filter.state) q.set("state", filter.state);
  const s = q.toString();
  return c.json("GET", `/api/v1/authorizations${s ? `?${s}` : ""}`);
}
export const grantAuthorization = (
  c: ApiClient,
  body: { repository: number; pool?: string; group?: string },
): Promise<AuthorizationView> => c.json("POST", "/api/v1/authorizations", body);
export const approveAuthorization = (c: ApiClient, id: number): Promise<AuthorizationView> =>
  c.json("POST", `/api/v1/authorizations/${id}/approve`);
export const revokeAuthorization = (
  c: ApiClient,
  id: number,
  cancelRunning: boolean,
): Promise<AuthorizationView & { cancelledJobs: number[] }> =>
  c.json("POST", `/api/v1/authorizations/${id}/revoke`, { cancelRunning });

export const setNodeLabels = (
  c: ApiClient,
  id: number,
  body: { labels: string[]; requiredLabels?: string[] },
): Promise<Node> => c.json("PUT", `/api/v1/nodes/${id}/labels`, body);
export const setNodePool = (c: ApiClient, id: number, poolName: string): Promise<Node> =>
  c.json("PUT", `/api/v1/nodes/${id}/pool`, { pool: poolName });
export const setNodeWorker = (
  c: ApiClient,
  id: number,
  body: { workerTrust: "trusted" | "untrusted"; operator?: string | null },
): Promise<Node> => c.json("PUT", `/api/v1/nodes/${id}/worker`, body);
export const clearNodeFlag = (c: ApiClient, id: number): Promise<Node> =>
  c.json("DELETE", `/api/v1/nodes/${id}/flag`);
