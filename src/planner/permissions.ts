// A job's effective permissions: its own `permissions:` replace its workflow's, and inside a called
// (reusable) workflow they are capped by what the calling job has (GitHub: the permissions passed
// from the caller can only be lowered by the called workflow, never raised). A called workflow
// whose workflow and job say nothing inherits the calling job's
// permissions as they are (not the restricted default): a reusable deploy workflow gets
// `id-token: write` from the job that calls it, as on GitHub.
import { capPermissions, effectivePermissions, type Permissions } from "../workflow/index.js";
import type { JobTemplate, Workflow } from "../workflow/model.js";

export function jobPermissions(
  scope: { workflow: Workflow; permissionsCap?: Permissions },
  job: JobTemplate,
): Permissions {
  const cap = scope.permissionsCap;
  if (cap && scope.workflow.permissions === undefined && job.permissions === undefined) return { ...cap };
  const own = effectivePermissions(scope.workflow.permissions, job.permissions);
  return cap ? capPermissions(own, cap) : own;
}
