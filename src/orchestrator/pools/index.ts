// Public face of pools and authorizations (docs/security.md "Pools and authorizations"): pools
// with trust tiers and groups, which repository may use which closed pool, and what an
// administrator decides about a node (labels, pool). The dispatcher reads authorizedPools and
// requests authorizations; the API and CLI manage the rest.
export * from "./pools.js";
export * from "./authorizations.js";
export * from "./node-placement.js";
