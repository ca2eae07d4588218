// The signed-in user, shared by every page: read once from GET /auth/session (also after a reload
// or a single sign-on, which leave only the HttpOnly cookie), kept in a small store.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, setCsrfToken } from "./api.js";

export interface User {
  id: number;
  name: string;
  displayName: string;
  serverAdmin: boolean;
  mfa: boolean;
}

export type SessionState =
  | { kind: "loading" }
  | { kind: "signed-out" }
  /** Password accepted, the second factor is due. */
  | { kind: "second-factor"; user: User }
  | { kind: "signed-in"; user: User };

let state: SessionState = { kind: "loading" };
const listeners = new Set<(s: SessionState) => void>();

function set(s: SessionState): void {
  state = s;
  for (const l of listeners) l(s);
}

export function useSession(): SessionState {
  const [s, setS] = useState(state);
  useEffect(() => {
    listeners.add(setS);
    setS(state);
    return () => {
      listeners.delete(setS);
    };
  }, []);
  return s;
}

interface SessionAnswer {
  user: User;
  complete: boolean;
  csrfToken: string;
}

/** Reads the session from the cookie the browser holds. */
export async function refreshSession(): Promise<void> {
  try {
    const s = await get<SessionAnswer>("/auth/session");
    setCsrfToken(s.csrfToken);
    set(s.complete ? { kind: "signed-in", user: s.user } : { kind: "second-factor", user: s.user });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      setCsrfToken(undefined);
      set({ kind: "signed-out" });
    } else throw err;
  }
}

export function signedOut(): void {
  setCsrfToken(undefined);
  set({ kind: "signed-out" });
}

/** Password login; the answer says whether the second factor is due. */
export async function logIn(user: string, password: string): Promise<void> {
  const r = await post<{ user: User; csrfToken: string; mfaRequired: boolean }>("/auth/login", {
    user,
    password,
  });
  setCsrfToken(r.csrfToken);
  set(r.mfaRequired ? { kind: "second-factor", user: r.user } : { kind: "signed-in", user: r.user });
}

/** The second factor: a TOTP code or a recovery code. */
export async function secondFactor(answer: { code: string } | { recoveryCode: string }): Promise<void> {
  const r = await post<{ csrfToken: string }>("/auth/mfa", answer);
  setCsrfToken(r.csrfToken);
  await refreshSession();
}

export async function logOut(): Promise<void> {
  try {
    await post("/auth/logout");
  } finally {
    signedOut();
  }
}
