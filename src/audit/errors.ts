// A broken chain as the one error line start-up and `airlock audit verify` stop with.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { describeChain, type ChainBroken } from "./verify.js";

export function auditChainError(broken: ChainBroken, where: string): AirlockError {
  return new AirlockError(ErrorCode.AUDIT_CHAIN_BROKEN, `${describeChain(broken)} (${where})`, {
    details: { seq: broken.seq, reason: broken.reason },
  });
}
