// Public face of the catalog: SQL CRUD for what an administrator registers — repositories,
// images, flavours, nodes, organizations — plus webhook delivery de-duplication.
export type { Db } from "./db.js";
export { inTransaction } from "./db.js";
export * from "./repositories.js";
export * from "./images.js";
export * from "./nodes.js";
export * from "./organizations.js";
export * from "./webhooks.js";
export * from "./owners.js";
export * from "./forge.js";
