// Public face of secret masking: what a job's secrets look like in its log (forms.ts, base64.ts),
// and the masker that hides them — in whole texts, in lines cut short and in streams of chunks.
// Used by the runner on the node (before output leaves it) and by the orchestrator when it stores
// a job's log (a second pass). docs/security.md ("Masking") says what it covers and what it cannot.
export { SecretMasker, checkSecretValue } from "./masker.js";
export { MaskStream } from "./stream.js";
export { MASK } from "./spans.js";
export { MIN_SECRET_LENGTH, secretForms } from "./forms.js";
