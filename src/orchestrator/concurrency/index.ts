// Public face of `concurrency:` groups on the orchestrator: joining (run or job), releasing, and a
// member's state, all in PostgreSQL (migration 024). What a join or release implies for other
// members (cancel them, start them) is done by the caller through the orchestrator's existing
// cancel paths and wake-ups, after its transaction commits.
export {
  joinGroup,
  type GroupMember,
  type Joined,
  type JoinRequest,
  type MemberState,
  type ToCancel,
} from "./join.js";
export { memberState, releaseMembers, type Leaving } from "./release.js";

import type { GroupMember, ToCancel } from "./join.js";

/** What the core does for other members after a join or a release has committed. */
export interface GroupEffects {
  /** Cancels members a join replaced or cancels in progress, recording the reason on each. */
  cancel(members: readonly ToCancel[]): Promise<void>;
  /** Members that hold their group now: a job becomes claimable, a run may start. */
  promoted(members: readonly GroupMember[]): void;
}
