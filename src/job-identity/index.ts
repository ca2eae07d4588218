// Public face of job identity (issue 8, item 6): OpenID Connect ID tokens signed by the
// orchestrator for jobs whose permissions grant `id-token: write` — request tokens bound to a job
// attempt, per-organization RS256 signing keys sealed under the organization key and rotated, the
// claims, and the discovery documents. No HTTP here: src/server/routes/job-identity.ts maps it.
export { jobClaims, jobFacts, subjectOf, trustTier, type JobFacts } from "./claims.js";
export { discoveryDocument, issuerOf } from "./discovery.js";
export { issueIdToken, MAX_TOKENS_PER_ATTEMPT, type IssueOptions } from "./issue.js";
export { ALG, MAX_TOKEN_SECONDS, publishedKeys, rotateSigningKey, signingKey } from "./keys.js";
export { liveAttemptOf, mintRequestTokens, REQUEST_TOKEN_PREFIX } from "./request-tokens.js";
