// The database handle of job identity: a pool (each operation its own transaction) or a client
// already in a transaction — the same as the secret store's, whose keys sign the tokens.
export { inTransaction, type Db } from "../secrets/index.js";
