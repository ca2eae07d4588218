// Data hooks: one API read with loading/error/reload, kept fresh by polling while `live`.
// Polling (not a socket) keeps the server simple; a page stops polling once what it shows is
// final (a completed run), and every poll reuses the same request.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { get, messageOf, type Query } from "./api.js";

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** GET `path` (below /api/v1); again every `pollMs` while `live` returns true for the data. */
export function useApi<T>(
  path: string | undefined,
  query?: Query,
  opts: { pollMs?: number; live?: (data: T) => boolean } = {},
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(path !== undefined);
  const [tick, setTick] = useState(0);
  const key = path === undefined ? undefined : `${path}?${JSON.stringify(query ?? {})}`;
  const live = useRef(opts.live);
  live.current = opts.live;

  useEffect(() => {
    if (path === undefined) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const d = await get<T>(path, query);
        if (stopped) return;
        setData(d);
        setError(undefined);
        if (opts.pollMs && live.current?.(d)) timer = setTimeout(() => void load(), opts.pollMs);
      } catch (err) {
        if (stopped) return;
        setError(messageOf(err));
        if (opts.pollMs && data !== undefined) timer = setTimeout(() => void load(), opts.pollMs * 2);
      } finally {
        if (!stopped) setLoading(false);
      }
    };
    setLoading(true);
    void load();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/**
 * The permissions the signed-in user holds on a target (GET /me/permissions), or undefined while
 * loading; `null` asks nothing (the target is not known yet).
 */
export function usePermissions(target: Query | null = {}): Set<string> | undefined {
  const { data } = useApi<{ permissions: string[] }>(
    target === null ? undefined : "/me/permissions",
    target ?? {},
  );
  return data ? new Set(data.permissions) : undefined;
}

/** The page's document title. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Airlock` : "Airlock";
  }, [title]);
}
