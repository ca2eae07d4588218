// Typed client of the REST API v1 over Node's global fetch. Every failure becomes an
// AirlockError: the server's own code for API errors, SERVER_UNREACHABLE when nothing answers,
// UNAUTHORIZED (with where the token came from) when the token is missing or refused.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Connection } from "./connection.js";
import type {
  ApiTokenInfo,
  AuditEntryView,
  CreateTokenBody,
  CreateUserBody,
  GrantView,
  UpdateUserBody,
  UserView,
  CreatedRepository,
  CredentialInfo,
  SetCredentialBody,
  SettableKind,
  CreateFlavourBody,
  CreateImageBody,
  CreateNodeRegistrationBody,
  CreateOrganizationBody,
  CreateRepositoryBody,
  RepositoryEgressBody,
  RepositoryForge,
  RepositoryForgeBody,
  RunArtifact,
  Flavour,
  Image,
  Job,
  NewNodeRegistration,
  ListedNode,
  Node,
  NodeRegistration,
  ReissuedNodeCredential,
  UpdateRepositoryBody,
  Organization,
  Repository,
  Run,
  RunDetail,
  RunSummary,
  TriggerRunBody,
  DispatchRunBody,
  TriggerRunResponse,
} from "./types.js";

const REQUEST_TIMEOUT_MS = 30_000;

/** Where roles are listed or granted: an organization by name, or a repository by id. */
export type MemberPlace = { organization: string } | { repository: number };
function memberBase(w: MemberPlace): string {
  return "organization" in w
    ? `/api/v1/organizations/${encodeURIComponent(w.organization)}`
    : `/api/v1/repositories/${w.repository}`;
}

/** GET /api/v1/me. */
export type Me =
  | { kind: "user"; user: UserView; tokenId: number | null; scopes: string[] | null; roles: GrantView[] }
  | { kind: "service"; tokenId: number; organizationId: number; scopes: string[] };

/** Query of `listAudit` (GET /api/v1/audit): action prefix, actor and object as kind or kind:id. */
export interface AuditListFilter {
  action?: string;
  actor?: string;
  object?: string;
  since?: string;
  until?: string;
  before?: number;
  limit?: number;
}

/** Query of `listRuns`; `repository` is an id (the commands resolve names first). */
export interface RunFilter {
  repository?: number | string;
  state?: string;
  limit?: number;
  /** Only runs older than this id (the next page). */
  before?: number;
  /** Exact matches (the server passes them to SQL as parameters). */
  workflow?: string;
  branch?: string;
  event?: string;
  status?: string;
  actor?: string;
}

export interface ApiClientOptions extends Connection {
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly tokenSource: string | undefined;
  private readonly tokenNote: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(o: ApiClientOptions) {
    this.server = o.server.replace(/\/+$/, "");
    this.token = o.token;
    this.tokenSource = o.tokenSource;
    this.tokenNote = o.tokenNote;
    this.fetchImpl = o.fetch ?? fetch;
  }

  /** Sends one request; resolves with the response only when its status is 2xx. */
  async send(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; timeout?: boolean } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const signals = [
      init.signal,
      init.timeout === false ? undefined : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ];
    const active = signals.filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await this.fetchImpl(this.server + path, {
        method,
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        ...(active.length > 0 ? { signal: AbortSignal.any(active) } : {}),
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw this.unreachable(err);
    }
    if (res.ok) return res;
    throw await this.errorOf(res);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body === undefined ? {} : { body });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AirlockError(
        ErrorCode.API_FAILED,
        `${method} ${path}: the server at ${this.server} answered ${res.status} with something that is not JSON`,
      );
    }
  }

  unreachable(err: unknown): AirlockError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (err as Error).name === "TimeoutError"
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    return new AirlockError(
      ErrorCode.SERVER_UNREACHABLE,
      `cannot reach the Airlock server at ${this.server} (${why}); is it running? (--server or AIRLOCK_SERVER)`,
      { retryable: true, cause: err },
    );
  }

  private async errorOf(res: Response): Promise<AirlockError> {
    const text = await res.text().catch(() => "");
    let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (res.status === 401) {
      const message = this.token
        ? `the server at ${this.server} refused the token from ${this.tokenSource ?? "the command line"}`
        : `the server at ${this.server} needs a token: run airlock login (or pass --token / AIRLOCK_TOKEN)` +
          (this.tokenNote ? `; ${this.tokenNote}` : "");
      return new AirlockError(ErrorCode.UNAUTHORIZED, message);
    }
    const e = body?.error;
    if (e && typeof e.code === "string" && typeof e.message === "string") {
      // The server's codes are AirlockError codes by contract; keep them as sent.
      return new AirlockError(e.code as ErrorCode, e.message, {
        ...(e.details !== undefined ? { details: e.details } : {}),
        retryable: res.status >= 500,
      });
    }
    return new AirlockError(
      ErrorCode.API_FAILED,
      `the server at ${this.server} answered ${res.status} ${res.statusText}`.trim(),
      { retryable: res.status >= 500 },
    );
  }

  // ---- repositories
  listRepositories(): Promise<Repository[]> {
    return this.json("GET", "/api/v1/repositories");
  }
  getRepository(id: number): Promise<Repository> {
    return this.json("GET", `/api/v1/repositories/${id}`);
  }
  addRepository(body: CreateRepositoryBody): Promise<CreatedRepository> {
    return this.json("POST", "/api/v1/repositories", body);
  }
  updateRepository(id: number, body: UpdateRepositoryBody): Promise<Repository> {
    return this.json("PATCH", `/api/v1/repositories/${id}`, body);
  }
  setRepositoryEgress(id: number, body: RepositoryEgressBody): Promise<Repository> {
    return this.json("PUT", `/api/v1/repositories/${id}/egress`, body);
  }
  /** Where the repository's commit statuses go (forge kind, API URL), and whether a forge token is set. */
  getRepositoryForge(id: number): Promise<RepositoryForge> {
    return this.json("GET", `/api/v1/repositories/${id}/forge`);
  }
  setRepositoryForge(id: number, body: RepositoryForgeBody): Promise<RepositoryForge> {
    return this.json("PUT", `/api/v1/repositories/${id}/forge`, body);
  }
  async removeRepository(id: number): Promise<void> {
    await this.json("DELETE", `/api/v1/repositories/${id}`);
  }
  /** Job-source credentials: which are set (never their values), set one (write-only), remove one. */
  listCredentials(id: number): Promise<CredentialInfo[]> {
    return this.json("GET", `/api/v1/repositories/${id}/credentials`);
  }
  setCredential(id: number, kind: SettableKind, body: SetCredentialBody): Promise<CredentialInfo> {
    return this.json("PUT", `/api/v1/repositories/${id}/credentials/${kind}`, body);
  }
  async removeCredential(id: number, kind: SettableKind): Promise<void> {
    await this.json("DELETE", `/api/v1/repositories/${id}/credentials/${kind}`);
  }
  triggerRun(repositoryId: number, body: TriggerRunBody): Promise<TriggerRunResponse> {
    return this.json("POST", `/api/v1/repositories/${repositoryId}/runs`, body);
  }
  dispatch(repositoryId: number, body: DispatchRunBody): Promise<TriggerRunResponse> {
    return this.json("POST", `/api/v1/repositories/${repositoryId}/dispatches`, body);
  }

  // ---- runs and jobs
  listRuns(filter: RunFilter = {}): Promise<Run[]> {
    const q = new URLSearchParams();
    if (filter.repository !== undefined) q.set("repository", String(filter.repository));
    if (filter.state) q.set("state", filter.state);
    if (filter.limit !== undefined) q.set("limit", String(filter.limit));
    if (filter.before !== undefined) q.set("before", String(filter.before));
    for (const k of ["workflow", "branch", "event", "status", "actor"] as const) {
      const v = filter[k];
      if (v !== undefined) q.set(k, v);
    }
    const qs = q.toString();
    return this.json("GET", `/api/v1/runs${qs ? `?${qs}` : ""}`);
  }
  /** An untrusted run waiting for approval: approve its commit (every run waiting at it starts). */
  approveRun(id: number): Promise<{ approved: boolean; started: number[] }> {
    return this.json("POST", `/api/v1/runs/${id}/approve`);
  }
  rejectRun(id: number): Promise<{ rejected: boolean }> {
    return this.json("POST", `/api/v1/runs/${id}/reject`);
  }
  /** A run with its attempts and the jobs of one attempt (default the current one). */
  getRun(id: number, attempt?: number): Promise<RunDetail> {
    return this.json("GET", `/api/v1/runs/${id}${attempt === undefined ? "" : `?attempt=${attempt}`}`);
  }
  async cancelRun(id: number): Promise<void> {
    await this.json("POST", `/api/v1/runs/${id}/cancel`);
  }
  /** The run's next attempt: every job, or only the failed ones (or one job) and the jobs that need them. */
  rerunRun(id: number, o: { failedOnly?: boolean; job?: string } = {}): Promise<RunSummary> {
    const body = {
      ...(o.failedOnly ? { failedOnly: true } : {}),
      ...(o.job !== undefined ? { job: o.job } : {}),
    };
    return this.json("POST", `/api/v1/runs/${id}/rerun`, Object.keys(body).length > 0 ? body : undefined);
  }
  getJob(id: number): Promise<Job> {
    return this.json("GET", `/api/v1/jobs/${id}`);
  }
  /** The whole log so far, as a byte stream (logs can be large: never buffered whole). */
  async jobLog(id: number, download = false, timestamps = false): Promise<ReadableStream<Uint8Array>> {
    const q = new URLSearchParams();
    if (download) q.set("download", "1");
    if (timestamps) q.set("timestamps", "1");
    const qs = q.toString();
    const res = await this.send("GET", `/api/v1/jobs/${id}/logs${qs ? `?${qs}` : ""}`, {
      headers: { accept: "text/plain" },
      timeout: false,
    });
    return res.body ?? new Blob([]).stream();
  }
  /** A run's finalized artifacts (every attempt). */
  runArtifacts(runId: number): Promise<RunArtifact[]> {
    return this.json("GET", `/api/v1/runs/${runId}/artifacts`);
  }
  /** An artifact's signed provenance (the DSSE envelope file `airlock verify` reads). */
  async artifactProvenance(runId: number, artifactId: number): Promise<string> {
    const res = await this.send("GET", `/api/v1/runs/${runId}/artifacts/${artifactId}/provenance`, {
      headers: { accept: "application/json" },
    });
    return res.text();
  }
  /** One artifact's bytes as a stream, with the digest the server recorded. */
  async downloadArtifact(
    runId: number,
    artifactId: number,
  ): Promise<{ body: ReadableStream<Uint8Array>; sha256: string; size: number }> {
    const res = await this.send("GET", `/api/v1/runs/${runId}/artifacts/${artifactId}/download`, {
      headers: { accept: "application/zip, application/octet-stream" },
      timeout: false,
    });
    return {
      body: res.body ?? new Blob([]).stream(),
      sha256: res.headers.get("x-airlock-sha256") ?? "",
      size: Number(res.headers.get("content-length") ?? "-1"),
    };
  }
  /** Opens the log's event stream, resuming after `lastEventId` when given. */
  async openLogStream(id: number, lastEventId: string | undefined, signal?: AbortSignal): Promise<Response> {
    return this.send("GET", `/api/v1/jobs/${id}/logs/stream`, {
      headers: {
        accept: "text/event-stream",
        ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}),
      },
      timeout: false,
      ...(signal ? { signal } : {}),
    });
  }

  // ---- audit log
  listAudit(filter: AuditListFilter = {}): Promise<AuditEntryView[]> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return this.json("GET", `/api/v1/audit${qs ? `?${qs}` : ""}`);
  }

  // ---- nodes, images, flavours
  listOrganizations(): Promise<Organization[]> {
    return this.json("GET", "/api/v1/organizations");
  }
  addOrganization(body: CreateOrganizationBody): Promise<Organization> {
    return this.json("POST", "/api/v1/organizations", body);
  }
  async deleteOrganization(name: string): Promise<void> {
    await this.json("DELETE", `/api/v1/organizations/${encodeURIComponent(name)}`);
  }
  setOrganizationLimit(name: string, maxConcurrentJobs: number | null): Promise<Organization> {
    return this.json("PUT", `/api/v1/organizations/${encodeURIComponent(name)}/limit`, { maxConcurrentJobs });
  }
  listNodes(): Promise<ListedNode[]> {
    return this.json("GET", "/api/v1/nodes");
  }
  createNodeRegistration(body: CreateNodeRegistrationBody): Promise<NewNodeRegistration> {
    return this.json("POST", "/api/v1/nodes/registrations", body);
  }
  listNodeRegistrations(): Promise<NodeRegistration[]> {
    return this.json("GET", "/api/v1/nodes/registrations");
  }
  async revokeNodeRegistration(id: number): Promise<void> {
    await this.json("DELETE", `/api/v1/nodes/registrations/${id}`);
  }
  /** A new credential for the node (shown once); every one it had stops working, its agent is disconnected. */
  reissueNodeCredential(id: number): Promise<ReissuedNodeCredential> {
    return this.json("POST", `/api/v1/nodes/${id}/credential`);
  }
  revokeNode(id: number): Promise<Node> {
    return this.json("POST", `/api/v1/nodes/${id}/revoke`);
  }
  setNodeEnabled(id: number, enabled: boolean): Promise<Node> {
    return this.json("POST", `/api/v1/nodes/${id}/${enabled ? "enable" : "disable"}`);
  }
  async removeNode(id: number): Promise<void> {
    await this.json("DELETE", `/api/v1/nodes/${id}`);
  }
  /** A new signing key for the organization's job identity tokens (the old one stays published until its tokens expire). */
  rotateIdTokenKey(name: string): Promise<{ kid: string }> {
    return this.json("POST", `/api/v1/organizations/${encodeURIComponent(name)}/id-token-keys/rotate`);
  }
  setOrganizationSettings(name: string, body: { requireMfa?: boolean }): Promise<Organization> {
    return this.json("PUT", `/api/v1/organizations/${encodeURIComponent(name)}/settings`, body);
  }

  // ---- users, roles, tokens
  me(): Promise<Me> {
    return this.json("GET", "/api/v1/me");
  }
  listUsers(): Promise<UserView[]> {
    return this.json("GET", "/api/v1/users");
  }
  getUser(id: number): Promise<UserView & { roles: GrantView[] }> {
    return this.json("GET", `/api/v1/users/${id}`);
  }
  addUser(body: CreateUserBody): Promise<UserView> {
    return this.json("POST", "/api/v1/users", body);
  }
  updateUser(id: number, body: UpdateUserBody): Promise<UserView> {
    return this.json("PATCH", `/api/v1/users/${id}`, body);
  }
  async removeUser(id: number): Promise<void> {
    await this.json("DELETE", `/api/v1/users/${id}`);
  }
  async resetPassword(id: number, password: string): Promise<void> {
    await this.json("PUT", `/api/v1/users/${id}/password`, { password });
  }
  resetMfa(id: number): Promise<UserView> {
    return this.json("DELETE", `/api/v1/users/${id}/totp`);
  }
  /** Grants of an organization (with its repositories') or of one repository. */
  listMembers(where: MemberPlace): Promise<GrantView[]> {
    return this.json("GET", `${memberBase(where)}/members`);
  }
  grantRole(where: MemberPlace, user: string, role: string): Promise<GrantView> {
    return this.json("PUT", `${memberBase(where)}/members/${encodeURIComponent(user)}`, { role });
  }
  async revokeRole(where: MemberPlace, user: string): Promise<void> {
    await this.json("DELETE", `${memberBase(where)}/members/${encodeURIComponent(user)}`);
  }
  listTokens(organization?: string): Promise<ApiTokenInfo[]> {
    return this.json(
      "GET",
      organization ? `/api/v1/organizations/${encodeURIComponent(organization)}/tokens` : "/api/v1/tokens",
    );
  }
  createToken(body: CreateTokenBody, organization?: string): Promise<ApiTokenInfo & { token: string }> {
    return this.json(
      "POST",
      organization ? `/api/v1/organizations/${encodeURIComponent(organization)}/tokens` : "/api/v1/tokens",
      body,
    );
  }
  async revokeToken(id: number, organization?: string): Promise<void> {
    await this.json(
      "DELETE",
      organization
        ? `/api/v1/organizations/${encodeURIComponent(organization)}/tokens/${id}`
        : `/api/v1/tokens/${id}`,
    );
  }

  listImages(): Promise<Image[]> {
    return this.json("GET", "/api/v1/images");
  }
  addImage(body: CreateImageBody): Promise<Image> {
    return this.json("POST", "/api/v1/images", body);
  }
  listFlavours(): Promise<Flavour[]> {
    return this.json("GET", "/api/v1/flavours");
  }
  addFlavour(body: CreateFlavourBody): Promise<Flavour> {
    return this.json("POST", "/api/v1/flavours", body);
  }
}
