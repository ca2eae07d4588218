// Public face of node authentication: one-time registration tokens exchanged for a node's first
// credential, the credential rotated on every connection, and revocation. How it fits together and
// what a stolen credential allows: docs/security.md, "Node agents".
export {
  DEFAULT_REGISTRATION_MINUTES,
  MAX_REGISTRATION_MINUTES,
  REGISTRATION_STATES,
  createRegistration,
  exchangeRegistration,
  listRegistrations,
  revokeRegistration,
  type Exchanged,
  type NewRegistration,
  type Registration,
  type RegistrationState,
} from "./registrations.js";
export { authenticateNode, beginRotation, confirmRotation, resetNodeCredential } from "./credentials.js";
export { revokeNode } from "./revoke.js";
