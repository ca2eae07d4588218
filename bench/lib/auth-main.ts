// The body of bench/auth.ts (see there); loaded after the JSON import hook.
import pg from "pg";
import { appendAudit } from "../../src/audit/index.js";
import {
  ARGON2_MEMORY_KIB,
  ARGON2_TIME_COST,
  authenticateApiToken,
  createApiToken,
  createUser,
  parseApiToken,
} from "../../src/auth/index.js";
import { openBenchEnv, startBenchService } from "./env.js";
import { machineLine, ms, pct, spread, table } from "./stats.js";

const LOGINS_PER_ROUND = 20;
const OPS_PER_ROUND = 400;
const CONCURRENCY = 8;

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Operations per second of `n` calls of `f`, `CONCURRENCY` at a time. */
async function throughput(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) await f(i);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

const perSecond = (xs: number[]): string[] =>
  [pct(xs, 50), Math.min(...xs), Math.max(...xs)].map((v) => `${Math.round(v).toLocaleString("en")}/s`);

export async function runAuthBench(ROUNDS: number): Promise<void> {
  const env = await openBenchEnv("airlock-bench-auth-");
  try {
    const bs = await startBenchService(env, "service");
    const { service } = bs;
    const pool = new pg.Pool({ connectionString: service.db.url, max: CONCURRENCY + 2 });
    try {
      await createUser(pool, { name: "bench", password: "bench user password", serverAdmin: true });
      const user = (await pool.query<{ id: string }>("SELECT id FROM users WHERE name = 'bench'")).rows[0]!;
      const { token } = await createApiToken(pool, {
        kind: "personal",
        name: "bench",
        scopes: ["admin"],
        userId: Number(user.id),
      });
      const publicId = parseApiToken(token)!.publicId;
      await pool.query("CREATE TABLE audit_plain (LIKE audit_log INCLUDING DEFAULTS)");
      const login = async (): Promise<string> => {
        const res = await fetch(`${service.url}/api/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ user: "bench", password: "bench user password" }),
        });
        if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
        return /airlock_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1]!;
      };
      const cookie = await login();
      const me = async (): Promise<void> => {
        const res = await fetch(`${service.url}/api/v1/auth/me`, {
          headers: { cookie: `airlock_session=${cookie}` },
        });
        if (res.status !== 200) throw new Error(`me: ${res.status}`);
        await res.arrayBuffer();
      };
      const logins: number[] = [];
      const mes: number[] = [];
      const tokenRates: number[] = [];
      const legacyRates: number[] = [];
      const auditRates: number[] = [];
      const plainRates: number[] = [];
      const entry = {
        actor: { kind: "user", id: 1, display: "bench" },
        action: "bench.event",
        object: { kind: "repository", id: 1 },
        clientAddress: "127.0.0.1",
        details: { name: "acme/app" },
      };
      for (let r = 0; r < ROUNDS + 1; r++) {
        const warm = r === 0;
        // Alternate which side goes first in each pair.
        const pairs: Array<[() => Promise<void>, () => Promise<void>]> = [
          [
            async () => void (warm ? undefined : logins.push(...(await timed(LOGINS_PER_ROUND, login)))),
            async () => void (warm ? undefined : mes.push(...(await timed(LOGINS_PER_ROUND, me)))),
          ],
          [
            async () => {
              const v = await throughput(OPS_PER_ROUND, async () => {
                if (!(await authenticateApiToken(pool, token))) throw new Error("token refused");
              });
              if (!warm) tokenRates.push(v);
            },
            async () => {
              const v = await throughput(OPS_PER_ROUND, async () => {
                // What any token lookup costs at least: one indexed row by its public id.
                const { rowCount } = await pool.query(
                  "SELECT id, secret_hash FROM api_tokens WHERE public_id = $1",
                  [publicId],
                );
                if (!rowCount) throw new Error("token row missing");
              });
              if (!warm) legacyRates.push(v);
            },
          ],
          [
            async () => {
              const v = await throughput(OPS_PER_ROUND, () => appendAudit(pool, entry));
              if (!warm) auditRates.push(v);
            },
            async () => {
              const v = await throughput(OPS_PER_ROUND, (i) =>
                pool.query(
                  `INSERT INTO audit_plain (seq, at, actor_kind, actor_id, actor_display, action, object_kind, object_id,
                                            client_address, details, prev_hash, hash)
                   VALUES ($1, now(), 'user', '1', 'bench', 'bench.event', 'repository', '1', '127.0.0.1',
                           '{"name":"acme/app"}', $2, $2)`,
                  [r * OPS_PER_ROUND + i + 1, "0".repeat(64)],
                ),
              );
              if (!warm) plainRates.push(v);
            },
          ],
        ];
        for (const [a, b] of pairs) {
          if (r % 2 === 0) {
            await a();
            await b();
          } else {
            await b();
            await a();
          }
        }
      }
      console.log(
        `identity costs: ${ROUNDS} rounds after one warm-up, interleaved; argon2id m=${ARGON2_MEMORY_KIB} KiB, t=${ARGON2_TIME_COST}, p=1`,
      );
      console.log("");
      table([
        ["latency (HTTP, one client)", "p50", "p95", "p99"],
        [`POST /auth/login (${logins.length})`, ...spread(logins)],
        [`GET /auth/me, baseline (${mes.length})`, ...spread(mes)],
      ]);
      console.log(`login − baseline (p50): ${ms(pct(logins, 50) - pct(mes, 50))}`);
      console.log("");
      table([
        [`throughput (concurrency ${CONCURRENCY}, ${OPS_PER_ROUND} per round)`, "median", "min", "max"],
        ["API token verification", ...perSecond(tokenRates)],
        ["indexed token row SELECT, baseline", ...perSecond(legacyRates)],
        ["audit appends (chained)", ...perSecond(auditRates)],
        ["plain INSERT, baseline", ...perSecond(plainRates)],
      ]);
      console.log(machineLine());
    } finally {
      await pool.end();
      await service.stop();
    }
  } finally {
    await env.close();
  }
}
