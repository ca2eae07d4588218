// The CLI commands over the REST API (repos, runs, logs, artifacts, nodes, images, flavours, roles, tokens,
// secrets, vars, envs, provenance) and the offline `verify`, registered on the `airlock` program
// by main.ts. `io` is injectable so tests run them in-process.
import type { Command } from "commander";
import { registerArtifacts } from "./artifacts.js";
import { registerFlavours, registerImages } from "./catalog.js";
import { defaultIo, type CliIo } from "./context.js";
import { registerLogin } from "./login.js";
import { registerLogs } from "./logs.js";
import { registerNodes } from "./nodes.js";
import { registerOrgs } from "./orgs.js";
import { registerPools } from "./pools.js";
import { registerProvenance, registerVerify } from "./provenance.js";
import { registerRepos } from "./repos.js";
import { registerRoles, registerTokens } from "./roles.js";
import { registerRuns } from "./runs.js";
import { registerDeploymentCommands, registerEnvs } from "./envs.js";
import { registerSecrets, registerVars } from "./secrets.js";
import { registerUsers } from "./users.js";

export type { CliIo, Writer } from "./context.js";

export function registerApiCommands(program: Command, io: Partial<CliIo> = {}): void {
  const full: CliIo = { ...defaultIo(), ...io };
  registerRepos(program, full);
  registerDeploymentCommands(registerRuns(program, full), full);
  registerLogs(program, full);
  registerArtifacts(program, full);
  registerNodes(program, full);
  registerPools(program, full);
  registerOrgs(program, full);
  registerImages(program, full);
  registerFlavours(program, full);
  registerLogin(program, full);
  registerUsers(program, full);
  registerRoles(program, full);
  registerTokens(program, full);
  registerSecrets(program, full);
  registerVars(program, full);
  registerEnvs(program, full);
  registerProvenance(program, full);
  registerVerify(program, full);
}
