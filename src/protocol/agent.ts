// The agent ↔ orchestrator contract: every WebSocket message, as zod schemas. The agent dials out
// to `GET /api/v1/agent` (WebSocket upgrade) with `Authorization: Bearer <node credential>`; nodes
// need no inbound ports. Messages are JSON text frames. Beside each message: who sends it, whether
// it is idempotent, what a retry means and what happens on disconnect.
//
// Credentials: a node's first credential comes from exchanging a one-time registration token
// (`POST /api/v1/agent/register` with `Authorization: Bearer alk_reg_…`, answered with
// `{ nodeId, nodeName, credential }`). The upgrade is refused with a plain HTTP 401 (never a
// socket) for a wrong, dead or revoked credential, and 429 while the client address is throttled
// for too many failures. Every accepted connection rotates the credential: `credential` brings
// the next one, the agent saves it durably and answers `credential-saved`, and only then does the
// old one die. Until then the server accepts either, and connecting with the new one completes the
// rotation, so a crash or a dropped connection at any step never locks the node out.
//
// Delivery of job output: every job event the agent emits for a job attempt carries `seq`
// (1, 2, 3, ... per job attempt). The agent appends events to a bounded on-disk outbox before
// sending, and drops them only when the orchestrator acknowledges them (`acks`). After a
// reconnect the orchestrator's `welcome` says, per job attempt, the last seq it has stored; the agent
// resends everything after it, in order. The orchestrator stores each (job, attempt, seq) once,
// so resending is always safe: output arrives in order, without duplicates.
import { z } from "zod";

/** 2: node credentials rotate on every connection (`credential`, `credential-saved`). */
export const PROTOCOL_VERSION = 2;

/**
 * Where the agent asks for a job's identity token (GET, `Authorization: Bearer <assign.idTokenRequest>`,
 * `?audience=…` optional): `{ value }` (200), or 401 once the job attempt has ended. Outside the
 * API's authentication: the request token is the authentication. Not idempotent (each call signs a
 * new token); a retry is harmless.
 */
export const ID_TOKEN_PATH = "/api/v1/agent/id-token";

/** Where an agent exchanges its registration token (POST, `Authorization: Bearer alk_reg_…`, no body). */
export const REGISTER_PATH = "/api/v1/agent/register";

/**
 * The answer (201) of a successful exchange: the node and its first credential, shown this once.
 * Not idempotent: the registration token is used up, so a retry after a lost answer gets 401 and
 * the node needs a new registration token (the node made by the lost exchange stays, unconnected).
 */
export const Registered = z.object({
  nodeId: z.number().int().positive(),
  nodeName: z.string(),
  credential: z.string().max(200),
});
export type Registered = z.infer<typeof Registered>;

/**
 * Where an agent redeems a job attempt's release token (POST, `Authorization: Bearer <node
 * credential>`, body `{ machine, token }`: the id of the machine it created for the attempt and the
 * attempt's `alk_rel_…` token). Only the node the attempt is assigned to can redeem it. Answered
 * (200) with `Released`: the run DEK that opens the sealed secrets of the attempt's job
 * description. Not idempotent, by design: the first redemption binds the token to that machine and
 * uses it up; any other (a second machine, the same one again, another node, an attempt no longer
 * assigned or running) gets 401. An agent that loses the answer cannot retry: the job fails on
 * that machine and is not lost.
 */
export const RELEASE_PATH = "/api/v1/agent/release";

export const ReleaseRequest = z.object({
  machine: z.string().min(1).max(128),
  token: z.string().min(1).max(200),
});

export const Released = z.object({
  jobId: z.number().int().positive(),
  attempt: z.number().int().nonnegative(),
  /** The run DEK, base64url (32 bytes). */
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** What the sealed values are bound to besides their names (AAD; src/secrets/run-keys.ts). */
  binding: z.object({
    organizationId: z.number().int().positive(),
    repositoryId: z.number().int().positive(),
    runId: z.number().int().positive(),
    organizationKeyId: z.number().int().positive(),
  }),
});
export type Released = z.infer<typeof Released>;

const jobRef = { jobId: z.number().int().positive(), attempt: z.number().int().nonnegative() };

// ---------------------------------------------------------------- agent → orchestrator

/**
 * hello — agent, first message after connecting (and after every reconnect).
 * Idempotent: updates the node's capacity, provisioners and images (facts the agent reports).
 * `node.labels` is kept for compatibility and is only a claim: the server never adds a label from
 * it (a node's labels are what an administrator gave it: registration token, `airlock nodes
 * set-labels`); claimed labels the node was not given are ignored, logged and audited
 * (`node.labels_refused`).
 * `running` lists the job attempts the agent is still running (e.g. across an orchestrator restart):
 * their leases are renewed instead of expiring.
 */
export const Hello = z.object({
  type: z.literal("hello"),
  protocol: z.number().int(),
  agentVersion: z.string(),
  node: z.object({
    labels: z.array(z.string()),
    cpus: z.number().positive(),
    memoryMb: z.number().int().positive(),
    diskMb: z.number().int().positive(),
    provisioners: z.array(z.string()),
    images: z.array(z.string()),
    /** One line per provisioner on how it isolates here (e.g. KVM or software emulation). Optional. */
    provisionerInfo: z.record(z.string(), z.string()).optional(),
  }),
  running: z.array(z.object(jobRef)),
});

/**
 * heartbeat — agent, every `heartbeatMs`. Idempotent. Renews the leases of the listed job attempts.
 * On disconnect, leases are no longer renewed; when one expires, the job is retried elsewhere.
 * The orchestrator handles heartbeats at once, not in order behind the connection's queued events.
 * `draining: true` (sent at once when the agent is asked to stop, and with every heartbeat after):
 * the agent finishes its running jobs and takes no new ones; the orchestrator places nothing more on
 * this connection (the node shows as not placeable, its jobs' leases still renewed). Optional, so
 * an orchestrator that does not know it ignores it; the agent also rejects any assign meanwhile.
 */
export const Heartbeat = z.object({
  type: z.literal("heartbeat"),
  running: z.array(z.object(jobRef)),
  draining: z.boolean().optional(),
});

/**
 * accepted — agent, after receiving `assign` and before creating the machine. Idempotent per job
 * attempt (a repeated accept is ignored). Moves the job from assigned to running.
 */
export const Accepted = z.object({ type: z.literal("accepted"), ...jobRef });

/**
 * rejected — agent, when it cannot run an assigned job (image not in its store, unknown provisioner,
 * shutting down). Idempotent. The orchestrator requeues the job without counting an attempt.
 */
export const Rejected = z.object({ type: z.literal("rejected"), ...jobRef, reason: z.string() });

/**
 * event — agent, one runner event of a job attempt (log line, step started/finished, annotation),
 * or `{ type: "log-truncated", capBytes }`: the agent enforces the log cap it was given in `assign`
 * and drops the job's later log lines and annotations (the orchestrator stores one marker and
 * flags the log truncated). Idempotent by (jobId, attempt, seq): resent after a reconnect until
 * acknowledged. Flow control: the agent keeps at most a window of events in flight (sent, not yet
 * acknowledged; src/agent/outbox.ts), so a node's output never queues far ahead of its heartbeats.
 * Strings may hold anything a job printed; the orchestrator replaces NUL and lone surrogates
 * before storing (src/runner/text.ts). `event.at` (ms since the epoch, optional) says when the
 * event happened on the node: the time of its log lines (clamped to the last day, never later than
 * when it is stored: src/queue/logs.ts logTime).
 */
export const JobEventMsg = z.object({
  type: z.literal("event"),
  ...jobRef,
  seq: z.number().int().positive(),
  event: z.record(z.string(), z.unknown()), // a RunnerEvent (src/runner/types.ts)
});

/**
 * finished — agent, the last message of a job attempt, after the machine was destroyed. Carries the
 * JobResult. Idempotent by (jobId, attempt): resent until acknowledged; a job already completed
 * ignores it. `seq` is the sequence number after the last event.
 * `result.summaries` (additive; absent from older agents): the step summaries (GITHUB_STEP_SUMMARY)
 * in step order, each `{ step: StepRef, markdown }`, masked by the runner, at most 1 MiB each and
 * 8 MiB together (src/runner/summaries.ts; the agent drops what is beyond). The orchestrator bounds
 * them again, masks them with the job's secrets like log lines and stores them once per
 * (job, attempt, step) before completing the job: a resent `finished` stores nothing twice, and the
 * summaries of an attempt that is no longer current are not stored.
 */
export const Finished = z.object({
  type: z.literal("finished"),
  ...jobRef,
  seq: z.number().int().positive(),
  result: z.record(z.string(), z.unknown()), // a JobResult (src/runner/types.ts)
});

/**
 * images — agent, when the names of the images in its store changed since it last reported them
 * (checked with every heartbeat, and before rejecting a job for an image it does not have).
 * Idempotent: replaces the node's image list, so the scheduler stops placing jobs here for an image
 * that was removed (no assign/reject loop) and starts for one that was built.
 */
export const Images = z.object({ type: z.literal("images"), images: z.array(z.string()) });

/**
 * credential-saved — agent, after the credential of a `credential` message is durably in its
 * credential file (written to a temporary file, synced, renamed over the old one). The orchestrator
 * then makes it the node's only credential. Idempotent: a repeat, or one that comes after the
 * rotation was completed by a reconnect with the new credential, changes nothing. Lost with the
 * connection: the next connection, made with the new credential, completes the rotation instead.
 */
export const CredentialSaved = z.object({ type: z.literal("credential-saved") });

export const AgentMessage = z.discriminatedUnion("type", [
  Hello,
  CredentialSaved,
  Images,
  Heartbeat,
  Accepted,
  Rejected,
  JobEventMsg,
  Finished,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

// ---------------------------------------------------------------- orchestrator → agent

/**
 * welcome — orchestrator, answer to hello. `stored` gives, for each job attempt the agent reported
 * running (and any other the orchestrator knows is assigned to this node), the last event seq stored:
 * the agent resends from there. Job attempts the orchestrator no longer wants (cancelled, reassigned
 * after a lease expiry) are listed in `abandon`: the agent destroys their machines and drops their outbox.
 */
export const Welcome = z.object({
  type: z.literal("welcome"),
  nodeId: z.number().int(),
  nodeName: z.string(),
  heartbeatMs: z.number().int().positive(),
  stored: z.array(z.object({ ...jobRef, seq: z.number().int().nonnegative() })),
  abandon: z.array(z.object(jobRef)),
});

/**
 * assign — orchestrator, a job attempt for this node. Idempotent per (jobId, attempt): an agent that
 * already has it ignores the repeat. If the agent disconnects before `accepted`, the lease expires
 * and the job is requeued.
 */
export const Assign = z.object({
  type: z.literal("assign"),
  ...jobRef,
  job: z.record(z.string(), z.unknown()), // a JobDescription (src/runner/types.ts)
  machine: z.object({
    provisioner: z.string(),
    /** Image name: the node resolves it in its own store (src/images) and rejects the job if absent. */
    image: z.string(),
    cpus: z.number().positive(),
    memoryMb: z.number().int().positive(),
    diskMb: z.number().int().positive(),
    /**
     * The repository's egress allow-list (host:port, *.domain:port, ip:port), as stored: the
     * agent adds it to its own (node ∪ repository) and enforces the union in its egress proxy.
     * Only the orchestrator sets it, from the repository's settings; nothing in the job can.
     * An older orchestrator sends none: the node's list alone applies. Entries the agent cannot
     * parse are dropped (fail closed) and said so in the job's log. Part of the assignment, so
     * repeats and resends carry the same list; a change applies to jobs assigned afterwards.
     */
    egressAllow: z.array(z.string().max(300)).max(256).default([]),
  }),
  /** Lease length: the agent must heartbeat more often than this. */
  leaseMs: z.number().int().positive(),
  /** The job's log cap (bytes of log text), enforced by the agent; absent: the agent's default. */
  logCapBytes: z.number().int().positive().optional(),
  /**
   * Only for a job whose permissions grant `id-token: write`: the attempt's request token
   * (`alk_idt_…`), a secret. The agent serves the job's identity-token endpoint on the machine's
   * job services (src/agent/job-services.ts), gives the job ACTIONS_ID_TOKEN_REQUEST_URL and this
   * token as ACTIONS_ID_TOKEN_REQUEST_TOKEN (masked), and forwards each request to
   * ID_TOKEN_PATH with it. Minted with the assignment, so a repeat carries the same token; it dies
   * when the attempt ends (401). Absent (no permission, or an older orchestrator): no variables.
   */
  idTokenRequest: z.string().min(1).max(200).optional(),
  /**
   * The attempt's ACTIONS_RUNTIME_TOKEN (a JWT the orchestrator minted and checks on every call,
   * src/artifacts/runtime-token.ts), a secret. The agent serves the artifact and cache services on
   * the machine's job services (src/agent/job-services.ts), forwarding to the orchestrator, and
   * gives actions ACTIONS_RUNTIME_TOKEN (masked), ACTIONS_RESULTS_URL and ACTIONS_CACHE_SERVICE_V2.
   * Minted with the assignment; dies when the attempt ends. Absent (older orchestrator): none.
   */
  runtimeToken: z.string().min(1).max(4096).optional(),
  /**
   * One-time token to redeem at RELEASE_PATH, once the attempt's machine exists, for the run DEK
   * that opens `job.sealedSecrets`. Present only when the job has sealed secrets. Never logged.
   */
  releaseToken: z.string().max(200).optional(),
});

/**
 * cancel — orchestrator, stop a job attempt now: the agent aborts the runner and destroys the
 * machine at once (every process of the job dies; no `if: always()` steps run), then sends
 * `finished` with conclusion cancelled. Idempotent; unknown job attempts are ignored.
 */
export const Cancel = z.object({ type: z.literal("cancel"), ...jobRef });

/** acks — orchestrator, events stored up to `seq` (inclusive) per job attempt. Idempotent. */
export const Acks = z.object({
  type: z.literal("acks"),
  acks: z.array(z.object({ ...jobRef, seq: z.number().int().nonnegative(), finished: z.boolean() })),
});

/**
 * credential — orchestrator, once per accepted connection, before anything else it sends: the node's
 * next credential (`alk_node_…`). The agent saves it (replacing the one it connected with), uses it
 * from its next connection on, and answers `credential-saved`. Until that answer the credential
 * it connected with keeps working too. Not resent: on a disconnect before the answer, the agent
 * connects with whichever credential it has saved, and either works. An agent that cannot save it
 * keeps its old credential and does not answer; the next connection brings another.
 */
export const Credential = z.object({ type: z.literal("credential"), credential: z.string().max(200) });

export const ServerMessage = z.discriminatedUnion("type", [Welcome, Credential, Assign, Cancel, Acks]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** WebSocket close codes used by the orchestrator. */
export const CloseCode = {
  /** The node was revoked or deleted: its credential is dead; do not retry with it. */
  unauthorized: 4401,
  /** Protocol violation (bad message): the agent reconnects after backoff. */
  badMessage: 4400,
  /** Another connection for the same node replaced this one. */
  replaced: 4409,
  /**
   * The hello's `protocol` is not this orchestrator's (the reason says which it speaks): retrying
   * cannot help until one side is upgraded. Older agents treat it as any other close (backoff).
   */
  unsupportedProtocol: 4406,
  /** The orchestrator is shutting down: reconnect with backoff. */
  goingAway: 1001,
} as const;
