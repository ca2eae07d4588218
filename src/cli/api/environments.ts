// The environments and deployment review calls of the REST API v1 for the CLI. Shapes come from
// the server's route schemas (src/server/schemas-environments.ts).
import type { PutEnvironmentBody, ReviewDeploymentsBody } from "../../server/schemas-environments.js";
import type { EnvironmentView, DeploymentView } from "../../environments/index.js";
import type { ApiClient } from "./client.js";

const envPath = (repository: number, name?: string): string =>
  `/api/v1/repositories/${repository}/environments${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

export function listEnvironments(client: ApiClient, repository: number): Promise<EnvironmentView[]> {
  return client.json("GET", envPath(repository));
}

export function putEnvironment(
  client: ApiClient,
  repository: number,
  name: string,
  rules: PutEnvironmentBody,
): Promise<EnvironmentView> {
  return client.json("PUT", envPath(repository, name), rules);
}

export async function removeEnvironment(client: ApiClient, repository: number, name: string): Promise<void> {
  await client.json("DELETE", envPath(repository, name));
}

export function listDeployments(client: ApiClient, runId: number): Promise<DeploymentView[]> {
  return client.json("GET", `/api/v1/runs/${runId}/deployments`);
}

export interface ReviewAnswer {
  state: "approved" | "rejected";
  environments: Array<{
    name: string;
    jobs: Array<{ id: number; name: string; status: string; error?: string }>;
  }>;
}

export function reviewDeployments(
  client: ApiClient,
  runId: number,
  review: ReviewDeploymentsBody,
): Promise<ReviewAnswer> {
  return client.json("POST", `/api/v1/runs/${runId}/deployments`, review);
}
