// Every link the orchestrator hands out, built from the configured public address (never from
// the request's Host header, which a client controls).
import { PROVIDERS, type Provider } from "../../sources/index.js";

export interface Links {
  readonly publicUrl: string;
  run(runId: number): string;
  job(jobId: number): string;
  jobLogs(jobId: number): string;
  webhook(provider: Provider, repositoryId: number): string;
  webhooks(repositoryId: number): Record<Provider, string>;
}

export function makeLinks(publicUrl: string): Links {
  const base = publicUrl.replace(/\/+$/, "");
  const api = `${base}/api/v1`;
  const webhook = (p: Provider, id: number): string => `${api}/webhooks/${p}/${id}`;
  return {
    publicUrl: base,
    run: (id) => `${api}/runs/${id}`,
    job: (id) => `${api}/jobs/${id}`,
    jobLogs: (id) => `${api}/jobs/${id}/logs`,
    webhook,
    webhooks: (id) =>
      Object.fromEntries(PROVIDERS.map((p) => [p, webhook(p, id)])) as Record<Provider, string>,
  };
}
