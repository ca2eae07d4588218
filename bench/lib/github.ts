// A signed GitHub push delivery for the benchmarks: a real example payload from
// @octokit/webhooks-examples, pointed at a local repository and commit, signed with the
// repository's webhook secret (HMAC-SHA256 over the raw body, as GitHub does).
import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

type Payload = Record<string, unknown> & {
  head_commit: Record<string, unknown>;
  repository: Record<string, unknown>;
};

let example: Payload | undefined;

function pushExample(): Payload {
  if (example) return example;
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as Array<{ name: string; examples: Payload[] }>;
  example = all.find((d) => d.name === "push")?.examples.find((e) => e.deleted === false && e.head_commit);
  if (!example) throw new Error("@octokit/webhooks-examples has no push example with a head commit");
  return example;
}

export function pushBody(o: {
  cloneUrl: string;
  fullName: string;
  commit: string;
  before: string;
  message: string;
}): Buffer {
  const p = structuredClone(pushExample());
  p.ref = "refs/heads/main";
  p.before = o.before;
  p.after = o.commit;
  p.created = false;
  p.head_commit = { ...p.head_commit, id: o.commit, message: o.message };
  p.commits = [p.head_commit];
  p.repository = { ...p.repository, full_name: o.fullName, clone_url: o.cloneUrl };
  return Buffer.from(JSON.stringify(p));
}

/** POSTs a push delivery to the orchestrator's GitHub webhook endpoint of the repository. */
export function deliverPush(
  url: string,
  repositoryId: number,
  secret: string,
  body: Buffer,
): Promise<Response> {
  return fetch(`${url}/api/v1/webhooks/github/${repositoryId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
}
