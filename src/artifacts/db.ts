// The database handle of the artifact service: a pool (each operation its own transaction) or a
// client already in a transaction — the same as the secret store's.
export { inTransaction, type Db } from "../secrets/index.js";
