// The API client of the web UI: same-origin fetch with the session cookie, the session's CSRF
// token on every state-changing request, and the API's one error shape turned into ApiError.
// Types come from the server's own modules (type-only imports, erased at build), so the UI and
// the API cannot drift apart silently.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when a request finds the session gone (401): the app shows the sign-in page. */
let onSignedOut: (() => void) | undefined;
export function whenSignedOut(f: () => void): void {
  onSignedOut = f;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return new ApiError(res.status, body.error?.code ?? "HTTP", body.error?.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, "HTTP", `${res.status} ${res.statusText}`);
  }
}

/** A request to the API: `path` is below /api/v1 (e.g. "/runs/1"). */
export async function api<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const res = await fetch(withQuery(`/api/v1${path}`, query), {
    method,
    headers,
    credentials: "same-origin",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && !path.startsWith("/auth/")) onSignedOut?.();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("content-type") ?? "";
  return (type.includes("json") ? await res.json() : await res.text()) as T;
}

export const get = <T>(path: string, query?: Query): Promise<T> => api<T>("GET", path, undefined, query);
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>("POST", path, body ?? {});
export const put = <T>(path: string, body?: unknown): Promise<T> => api<T>("PUT", path, body ?? {});
export const patch = <T>(path: string, body?: unknown): Promise<T> => api<T>("PATCH", path, body ?? {});
export const del = <T>(path: string): Promise<T> => api<T>("DELETE", path);

/** A readable one-line message for an error thrown by the API client or fetch. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
