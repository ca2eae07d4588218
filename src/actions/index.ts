// Public face of the actions module: loading `uses:` actions (local, remote via git with a host
// cache, docker://), reading files of remote repositories, and checking out the workspace.
export type { ActionsOptions } from "./location.js";
export { createActionLoader } from "./loader.js";
export { cloneAt, createGitWorkspaceSource, overlay } from "./workspace.js";
export { stripCredentials } from "./location.js";
export { parseUses, isCheckoutAction, type ParsedUses } from "./uses.js";
export { fetchRemoteFile } from "./remote-file.js";
export { createActionPinner, type ActionPinner, type ReadRepoFile } from "./pins.js";
