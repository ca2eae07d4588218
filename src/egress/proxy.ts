// The node's egress proxy: opens one session (a unix socket of its own) per machine that has an
// allow-list, and closes it with the machine. Sockets live in `socketDir` (0700, owned by the
// proxy's user): a job never sees the path, and another user cannot connect.
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { parseCidr, type Cidr } from "./address.js";
import type { DecideContext } from "./decide.js";
import type { AllowList } from "./policy.js";
import type { EgressRecord } from "./record.js";
import { createResolver, type ResolverOptions } from "./resolve.js";
import { createSessionServer, DEFAULT_LIMITS, type SessionLimits } from "./session.js";

export interface EgressProxyOptions {
  /** Folder for the sessions' unix sockets (created 0700). Keep the path short (sun_path: 108 bytes). */
  socketDir: string;
  resolver?: ResolverOptions;
  /** Extra addresses or ranges never to reach (`10.1.2.3`, `203.0.113.0/24`, `2001:db8::/32`). */
  deny?: readonly string[];
  /** Refuse this node's own interface addresses; default true. */
  denyOwnAddresses?: boolean;
  limits?: Partial<SessionLimits>;
}

export interface EgressSession {
  /** Host path of the session's unix socket (for the machine's relay only). */
  readonly socketPath: string;
  /** Closes the socket and every connection through it. Idempotent. */
  close(): Promise<void>;
}

export interface EgressProxy {
  /** Opens a session for one machine. Not idempotent: each call opens a new socket. */
  open(list: AllowList, onRecord: (r: EgressRecord) => void): Promise<EgressSession>;
  /** Closes every open session. Idempotent. */
  close(): Promise<void>;
}

/** Parses a deny list, collecting every problem. */
export function parseDenyList(entries: readonly string[]): { deny: Cidr[]; problems: string[] } {
  const deny: Cidr[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    const c = parseCidr(e, "an address the operator denied");
    if (c) deny.push(c);
    else problems.push(`"${e}": expected an IP address or CIDR range`);
  }
  return { deny, problems };
}

export function createEgressProxy(o: EgressProxyOptions): EgressProxy {
  const { deny, problems } = parseDenyList(o.deny ?? []);
  if (problems.length > 0) {
    throw new AirlockError(ErrorCode.CONFIG_INVALID, `egress deny list: ${problems.join("; ")}`);
  }
  const dc: DecideContext = {
    resolve: createResolver(o.resolver),
    deny,
    denyOwnAddresses: o.denyOwnAddresses ?? true,
  };
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const sessions = new Set<EgressSession>();
  let ready: Promise<void> | undefined;

  async function prepare(): Promise<void> {
    await mkdir(o.socketDir, { recursive: true, mode: 0o700 });
    const st = await lstat(o.socketDir);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) {
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `${o.socketDir} is not a folder owned by this user`);
    }
    await chmod(o.socketDir, 0o700);
  }

  return {
    async open(list, onRecord) {
      ready ??= prepare();
      await ready.catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
      const socketPath = path.join(o.socketDir, `${randomBytes(8).toString("hex")}.sock`);
      const server = createSessionServer(list, dc, limits, onRecord);
      await server.listen(socketPath);
      await chmod(socketPath, 0o600);
      let closed: Promise<void> | undefined;
      const session: EgressSession = {
        socketPath,
        close: () =>
          (closed ??= (async () => {
            sessions.delete(session);
            await server.close();
            await rm(socketPath, { force: true });
          })()),
      };
      sessions.add(session);
      return session;
    },
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
    },
  };
}
