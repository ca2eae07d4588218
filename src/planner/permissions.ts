// A job's effective permissions: its own `permissions:` replace its workflow's, and inside a called
// (reusable) workflow they are capped by what the calling job has (GitHub: a called workflow can
// keep or lower its caller's permissions, never raise them).
import { capPermissions, effectivePermissions, type Permissions } from "../workflow/index.js";
import type { JobTemplate, Workflow } from "../workflow/model.js";

export function jobPermissions(
  scope: { workflow: Workflow; permissionsCap?: Permissions },
  job: JobTemplate,
): Permissions {
  const own = effectivePermissions(scope.workflow.permissions, job.permissions);
  return scope.permissionsCap ? capPermissions(own, scope.permissionsCap) : own;
}
