// The cache service v2 (src/caches) with the real `@actions/cache` client in a child process with a
// job's environment, against a real server on real PostgreSQL: a save then a restore round-trips
// the files (the client runs tar itself), restore keys pick the newest prefix match, branch scoping
// (another feature branch: never; the default branch and a pull request's base: yes), cache
// poisoning from an untrusted run and from an untrusted worker blocked (worker trust as recorded at
// assignment), LRU eviction under the quota, a finished attempt's token
// and a tampered signed URL refused.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedOrganization, seedRepository } from "../secrets/helpers.js";
import { startArtifactServer, type ArtifactServer, type Attempt } from "./helpers.js";

/** Per repository and tier: a few of the test's archives (each ~20 kB of random bytes) fit. */
const QUOTA = 70_000;
let s: ArtifactServer;
let seq = 0;

before(async () => {
  s = await startArtifactServer({ cacheQuotaBytes: QUOTA });
});
after(async () => {
  await s.close();
});

async function repository(): Promise<number> {
  seq++;
  return seedRepository(s.db.pool, await seedOrganization(s.db.pool, `corg-${seq}`), `acme/cached-${seq}`);
}

type Trust = "trusted" | "untrusted";

/**
 * A running job attempt of a new run on `ref` in the repository (default branch main), on a new
 * node of worker trust `worker` (default trusted); `recorded`: the worker trust recorded when the
 * attempt was assigned (migration 039; absent: none, the node's value counts).
 */
async function attemptOn(
  repositoryId: number,
  opts: {
    ref?: string;
    tier?: Trust;
    event?: string;
    baseBranch?: string;
    worker?: Trust;
    recorded?: Trust;
  } = {},
): Promise<Attempt> {
  const pool = s.db.pool;
  seq++;
  const payload = opts.baseBranch ? { pull_request: { base: { ref: opts.baseBranch } } } : {};
  const run = await pool.query<{ id: string }>(
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, payload, trust_tier)
     VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM runs WHERE repository_id = $1), $2, $3, $4, 'webhook', $5, $6)
     RETURNING id`,
    [
      repositoryId,
      opts.event ?? "push",
      opts.ref ?? "refs/heads/main",
      "c".repeat(40),
      payload,
      opts.tier ?? "trusted",
    ],
  );
  const runId = Number(run.rows[0]!.id);
  const node = await pool.query<{ id: string }>(
    `INSERT INTO nodes (name, worker_trust) VALUES ($1, $2) RETURNING id`,
    [`cnode-${seq}`, opts.worker ?? "trusted"],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, description, state, attempt, node_id, started_at,
                       assigned_worker_trust, assigned_operator_key)
     VALUES ($1, $2, 'build', 'build', 'ci.yml', $3, 'running', 1, $4, now(), $5, $6) RETURNING id`,
    [
      runId,
      `ci.yml#build-${seq}#0`,
      { jobId: "build", timeoutMinutes: 60 },
      node.rows[0]!.id,
      opts.recorded ?? null,
      opts.recorded === undefined ? null : `node:${node.rows[0]!.id}`,
    ],
  );
  const jobId = Number(rows[0]!.id);
  return { runId, jobId, attempt: 1, token: await s.svc.mintRuntimeToken(jobId, 1) };
}

interface ClientResult {
  ok: boolean;
  out?: unknown;
  error?: string;
  stdout: string;
}

/** The real `@actions/cache` client in `workspace` with the job's environment. */
function cacheClient(a: Attempt, workspace: string, args: string[]): Promise<ClientResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ACTIONS_RUNTIME_TOKEN: a.token,
    ACTIONS_RESULTS_URL: `${s.url}/`,
    ACTIONS_CACHE_SERVICE_V2: "true",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: join(workspace, "..", "runner-temp"),
  };
  const script = join(import.meta.dirname, "fixtures", "cache-client.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env, cwd: workspace, maxBuffer: 16 << 20 },
      (err, stdout) => {
        const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
        if (!line)
          return reject(new Error(`cache client printed no result: ${err?.message ?? "exit 0"}\n${stdout}`));
        resolve({ ...(JSON.parse(line.slice("RESULT ".length)) as Omit<ClientResult, "stdout">), stdout });
      },
    );
  });
}

/** A fresh workspace holding `deps/` with a random file (and a nested one), or empty. */
async function workspace(content?: Buffer): Promise<string> {
  const root = await mkdtemp(join(s.dir, "job-"));
  const ws = join(root, "ws");
  await mkdir(join(root, "runner-temp"), { recursive: true });
  await mkdir(join(ws, "deps", "nested"), { recursive: true });
  if (content) {
    await writeFile(join(ws, "deps", "blob.bin"), content);
    await writeFile(
      join(ws, "deps", "nested", "note.txt"),
      `sha ${content.subarray(0, 8).toString("hex")}\n`,
    );
  }
  return ws;
}

async function save(a: Attempt, key: string, content: Buffer): Promise<ClientResult> {
  return cacheClient(a, await workspace(content), ["save", key, "deps"]);
}

/** Restores into a fresh workspace: the matched key (null on a miss) and the restored file. */
async function restore(
  a: Attempt,
  key: string,
  restoreKeys: string[] = [],
): Promise<{ matched: string | null; bytes?: Buffer; r: ClientResult }> {
  const ws = await workspace();
  const r = await cacheClient(a, ws, [
    "restore",
    key,
    restoreKeys.length ? restoreKeys.join(",") : "-",
    "deps",
  ]);
  assert.ok(r.ok, r.error);
  const matched = r.out as string | null;
  const bytes = matched === null ? undefined : await readFile(join(ws, "deps", "blob.bin"));
  return { matched, bytes, r };
}

const savedId = (r: ClientResult): number => {
  assert.ok(r.ok, `${r.error}\n${r.stdout}`);
  return r.out as number;
};

async function twirp(token: string, method: string, body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/twirp/github.actions.results.api.v1.CacheService/${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("cache service v2 with the real @actions/cache client", () => {
  it("saves and restores byte-identically; the same key again is the client's 'already exists'", async () => {
    const repo = await repository();
    const content = randomBytes(20_000);
    const id = savedId(await save(await attemptOn(repo), "deps-linux-1", content));
    assert.ok(id > 0);
    const back = await restore(await attemptOn(repo), "deps-linux-1");
    assert.equal(back.matched, "deps-linux-1");
    assert.ok(back.bytes?.equals(content));
    const again = await save(await attemptOn(repo), "deps-linux-1", randomBytes(100));
    assert.equal(savedId(again), -1);
    assert.match(again.stdout, /another job may be creating this cache/);
    // Still the first bytes: a finalized entry never changes.
    assert.ok((await restore(await attemptOn(repo), "deps-linux-1")).bytes?.equals(content));
  });

  it("matches restore keys by prefix, newest first, after the exact key", async () => {
    const repo = await repository();
    const older = randomBytes(5000);
    const newer = randomBytes(5000);
    savedId(await save(await attemptOn(repo), "npm-aaa", older));
    savedId(await save(await attemptOn(repo), "npm-bbb", newer));
    const hit = await restore(await attemptOn(repo), "npm-zzz", ["npm-"]);
    assert.equal(hit.matched, "npm-bbb");
    assert.ok(hit.bytes?.equals(newer));
    const exact = await restore(await attemptOn(repo), "npm-aaa", ["npm-"]);
    assert.equal(exact.matched, "npm-aaa");
    assert.equal((await restore(await attemptOn(repo), "yarn-1", ["yarn-"])).matched, null);
  });

  it("scopes by branch: never another feature branch's entry; the default branch's and a PR base's, yes", async () => {
    const repo = await repository();
    const onMain = randomBytes(3000);
    const onA = randomBytes(3000);
    const onRelease = randomBytes(3000);
    savedId(await save(await attemptOn(repo), "build-main", onMain));
    savedId(await save(await attemptOn(repo, { ref: "refs/heads/feature-a" }), "build-a", onA));
    savedId(await save(await attemptOn(repo, { ref: "refs/heads/release" }), "build-rel", onRelease));
    const b = { ref: "refs/heads/feature-b" };
    assert.equal((await restore(await attemptOn(repo, b), "build-a")).matched, null);
    assert.equal((await restore(await attemptOn(repo, b), "build-", ["build-a"])).matched, "build-main");
    assert.ok((await restore(await attemptOn(repo, b), "build-main")).bytes?.equals(onMain));
    assert.ok(
      (await restore(await attemptOn(repo, { ref: "refs/heads/feature-a" }), "build-a")).bytes?.equals(onA),
    );
    // The release branch's entry: not for main, but for a pull request into release.
    assert.equal((await restore(await attemptOn(repo), "build-rel")).matched, null);
    const pr = { ref: "refs/pull/3/merge", event: "pull_request", baseBranch: "release" };
    assert.ok((await restore(await attemptOn(repo, pr), "build-rel")).bytes?.equals(onRelease));
  });

  it("blocks cache poisoning: an untrusted run's entry is never restored by a trusted run", async () => {
    const repo = await repository();
    const good = randomBytes(4000);
    const evil = randomBytes(4000);
    savedId(await save(await attemptOn(repo), "toolchain", good));
    // A fork's pull request claiming the default branch writes into the untrusted scope only.
    const fork = { tier: "untrusted" as const, ref: "refs/heads/main" };
    assert.ok(savedId(await save(await attemptOn(repo, fork), "toolchain", evil)) > 0);
    assert.ok(savedId(await save(await attemptOn(repo, fork), "poison-only", evil)) > 0);
    const trusted = await restore(await attemptOn(repo), "toolchain");
    assert.ok(trusted.bytes?.equals(good));
    assert.equal((await restore(await attemptOn(repo), "poison-only")).matched, null);
    assert.equal((await restore(await attemptOn(repo), "poison-", ["poison"])).matched, null);
    // The untrusted run itself sees its own scope first.
    assert.ok((await restore(await attemptOn(repo, fork), "toolchain")).bytes?.equals(evil));
    const forkPr = {
      tier: "untrusted" as const,
      ref: "refs/pull/9/merge",
      event: "pull_request",
      baseBranch: "main",
    };
    assert.ok((await restore(await attemptOn(repo, forkPr), "toolchain")).bytes?.equals(good));
  });

  // Worker trust (migration 041): an untrusted worker may run a trusted run's job and so save into
  // the trusted scope; a job on a trusted worker must never build from what it saved.
  const onTrusted = { worker: "trusted", recorded: "trusted" } as const;
  const onUntrusted = { worker: "untrusted", recorded: "untrusted" } as const;

  it("blocks cache poisoning by an untrusted worker: jobs on trusted workers miss its entries", async () => {
    const repo = await repository();
    const evil = randomBytes(4000);
    const good = randomBytes(4000);
    assert.ok(savedId(await save(await attemptOn(repo, onUntrusted), "wt-tool", evil)) > 0);
    assert.equal((await restore(await attemptOn(repo, onTrusted), "wt-tool")).matched, null);
    assert.equal((await restore(await attemptOn(repo, onTrusted), "wt-x", ["wt-"])).matched, null);
    // The service finds nothing for it (not merely a refused download).
    const { rows: saved } = await s.db.pool.query<{ version: string }>(
      `SELECT version FROM cache_entries WHERE repository_id = $1`,
      [repo],
    );
    const version = saved[0]!.version;
    const onTrustedWorker = await attemptOn(repo, onTrusted);
    const miss = await twirp(onTrustedWorker.token, "GetCacheEntryDownloadURL", { key: "wt-tool", version });
    assert.deepEqual([miss.status, miss.body.ok], [200, false]);
    // A download URL is checked again when used: a job without a record on an untrusted node gets
    // one, then an administrator makes the node trusted; the job is now a trusted-worker caller.
    const unrecorded = await attemptOn(repo, { worker: "untrusted" });
    const hit = await twirp(unrecorded.token, "GetCacheEntryDownloadURL", { key: "wt-tool", version });
    assert.equal(hit.body.ok, true);
    await s.db.pool.query(
      `UPDATE nodes SET worker_trust = 'trusted' WHERE id = (SELECT node_id FROM jobs WHERE id = $1)`,
      [unrecorded.jobId],
    );
    assert.equal((await fetch(String(hit.body.signed_download_url))).status, 404);
    // Another untrusted worker restores it, as before.
    assert.ok((await restore(await attemptOn(repo, onUntrusted), "wt-tool")).bytes?.equals(evil));
    // The untrusted worker's save does not hold the key: a trusted worker saves it in its own slot.
    assert.ok(savedId(await save(await attemptOn(repo, onTrusted), "wt-tool", good)) > 0);
    assert.ok((await restore(await attemptOn(repo, onTrusted), "wt-tool")).bytes?.equals(good));
    assert.ok((await restore(await attemptOn(repo, onUntrusted), "wt-tool")).bytes?.equals(good));
    // Once a trusted worker's entry is there, an untrusted worker's save of the key is "already exists".
    assert.equal(savedId(await save(await attemptOn(repo, onUntrusted), "wt-tool", evil)), -1);
    const { rows } = await s.db.pool.query<{ worker_trust: string }>(
      `SELECT worker_trust FROM cache_entries WHERE repository_id = $1 ORDER BY id`,
      [repo],
    );
    assert.deepEqual(
      rows.map((r) => r.worker_trust),
      ["untrusted", "trusted"],
    );
  });

  it("restores a trusted worker's entry on trusted and untrusted workers alike", async () => {
    const repo = await repository();
    const content = randomBytes(4000);
    savedId(await save(await attemptOn(repo, onTrusted), "wt-deps", content));
    assert.ok((await restore(await attemptOn(repo, onTrusted), "wt-deps")).bytes?.equals(content));
    assert.ok((await restore(await attemptOn(repo, onUntrusted), "wt-deps")).bytes?.equals(content));
    // Without a record (assigned before migration 039) the node's worker trust counts.
    assert.ok(
      (await restore(await attemptOn(repo, { worker: "trusted" }), "wt-deps")).bytes?.equals(content),
    );
  });

  it("takes the saving job's worker trust as recorded at assignment, not as an admin set it since", async () => {
    const repo = await repository();
    const evil = randomBytes(4000);
    // Assigned while its node was untrusted; an administrator has made the node trusted since.
    const saver = await attemptOn(repo, { worker: "trusted", recorded: "untrusted" });
    savedId(await save(saver, "wt-late", evil));
    assert.equal((await restore(await attemptOn(repo, onTrusted), "wt-late")).matched, null);
    // Nor does making it trusted after the save change the entry.
    await s.db.pool.query(
      `UPDATE nodes SET worker_trust = 'trusted' WHERE id = (SELECT node_id FROM jobs WHERE id = $1)`,
      [saver.jobId],
    );
    assert.equal((await restore(await attemptOn(repo, onTrusted), "wt-late")).matched, null);
    // A job recorded as on an untrusted worker is an untrusted-worker caller, whatever its node is now.
    const caller = { worker: "trusted", recorded: "untrusted" } as const;
    assert.ok((await restore(await attemptOn(repo, caller), "wt-late")).bytes?.equals(evil));
    // And a job recorded on a trusted worker whose node was made untrusted since still misses.
    const demoted = { worker: "untrusted", recorded: "trusted" } as const;
    assert.equal((await restore(await attemptOn(repo, demoted), "wt-late")).matched, null);
  });

  it("a rebuild for corroboration neither restores nor saves: it cannot be fed the build it checks", async () => {
    const repo = await repository();
    const built = await attemptOn(repo);
    savedId(await save(built, "toolchain", randomBytes(3000)));
    const rebuild = await attemptOn(repo);
    await s.db.pool.query(`UPDATE jobs SET replica_of = $2 WHERE id = $1`, [rebuild.jobId, built.jobId]);
    assert.equal((await restore(rebuild, "toolchain")).matched, null);
    const saved = await save(rebuild, "from-rebuild", randomBytes(100));
    assert.equal(savedId(saved), -1);
    const rows = await s.db.pool.query(`SELECT 1 FROM cache_entries WHERE key = 'from-rebuild'`);
    assert.equal(rows.rowCount, 0);
    // Another job of the same kind still restores it.
    assert.equal((await restore(await attemptOn(repo), "toolchain")).matched, "toolchain");
  });

  it("evicts the least recently used entries when a new one would pass the quota", async () => {
    const repo = await repository();
    const [one, two, three] = [randomBytes(20_000), randomBytes(20_000), randomBytes(20_000)];
    savedId(await save(await attemptOn(repo), "lru-1", one));
    savedId(await save(await attemptOn(repo), "lru-2", two));
    savedId(await save(await attemptOn(repo), "lru-3", three));
    // Touch 1 and 3: 2 is now the least recently used.
    assert.equal((await restore(await attemptOn(repo), "lru-1")).matched, "lru-1");
    assert.equal((await restore(await attemptOn(repo), "lru-3")).matched, "lru-3");
    savedId(await save(await attemptOn(repo), "lru-4", randomBytes(20_000)));
    assert.equal((await restore(await attemptOn(repo), "lru-2")).matched, null);
    for (const k of ["lru-1", "lru-3", "lru-4"])
      assert.equal((await restore(await attemptOn(repo), k)).matched, k);
    const { rows } = await s.db.pool.query<{ n: string }>(
      `SELECT sum(size) AS n FROM cache_entries WHERE repository_id = $1 AND state = 'finalized'`,
      [repo],
    );
    assert.ok(Number(rows[0]!.n) <= QUOTA);
    // An entry larger than the whole quota is refused, and leaves nothing.
    assert.equal(savedId(await save(await attemptOn(repo), "too-big", randomBytes(QUOTA + 1000))), -1);
    assert.equal((await restore(await attemptOn(repo), "too-big")).matched, null);
  });

  it("refuses the token of a finished attempt", async () => {
    const repo = await repository();
    const a = await attemptOn(repo);
    savedId(await save(a, "finished-1", randomBytes(100)));
    await s.db.pool.query(`UPDATE jobs SET state = 'completed' WHERE id = $1`, [a.jobId]);
    const call = await twirp(a.token, "GetCacheEntryDownloadURL", { key: "finished-1", version: "x" });
    assert.equal(call.status, 401);
    assert.equal((call.body.meta as Record<string, unknown>).airlock_code, "UNAUTHORIZED");
    const r = await restore(a, "finished-1");
    assert.equal(r.matched, null);
    assert.equal(savedId(await save(a, "finished-2", randomBytes(100))), -1);
  });

  it("takes an archive in blocks (Put Block, Put Block List), as uploadFile sends one past 128 MiB", async () => {
    const repo = await repository();
    const a = await attemptOn(repo);
    const made = await twirp(a.token, "CreateCacheEntry", { key: "blocks-1", version: "v1" });
    const up = String(made.body.signed_upload_url);
    const parts = [randomBytes(3000), randomBytes(2000)];
    const ids = ["YmxvY2stMQ==", "YmxvY2stMA=="];
    // Staged out of order; the list decides.
    for (const i of [1, 0]) {
      const put = await fetch(`${up}&comp=block&blockid=${encodeURIComponent(ids[i]!)}`, {
        method: "PUT",
        body: parts[i],
      });
      assert.equal(put.status, 201);
    }
    const list = await fetch(`${up}&comp=blocklist`, {
      method: "PUT",
      body: `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${ids[0]}</Latest><Latest>${ids[1]}</Latest></BlockList>`,
    });
    assert.equal(list.status, 201);
    const wrong = await twirp(a.token, "FinalizeCacheEntryUpload", {
      key: "blocks-1",
      version: "v1",
      size_bytes: "1",
    });
    assert.equal((wrong.body.meta as Record<string, unknown>).airlock_code, "ARTIFACT_DIGEST_MISMATCH");
    // A wrong size drops the upload; the job saves again.
    const again = await twirp(a.token, "CreateCacheEntry", { key: "blocks-1", version: "v1" });
    const up2 = String(again.body.signed_upload_url);
    const whole = Buffer.concat(parts);
    assert.equal((await fetch(up2, { method: "PUT", body: whole })).status, 201);
    const fin = await twirp(a.token, "FinalizeCacheEntryUpload", {
      key: "blocks-1",
      version: "v1",
      size_bytes: String(whole.length),
    });
    assert.equal(fin.status, 200);
    const got = await twirp(a.token, "GetCacheEntryDownloadURL", { key: "blocks-1", version: "v1" });
    const res = await fetch(String(got.body.signed_download_url));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(whole));
    const other = await twirp(a.token, "GetCacheEntryDownloadURL", { key: "blocks-1", version: "v2" });
    assert.deepEqual([other.status, other.body.ok], [200, false]);
    const dup = await twirp(a.token, "CreateCacheEntry", { key: "blocks-1", version: "v1" });
    assert.deepEqual([dup.status, dup.body.code], [409, "already_exists"]);
  });

  it("refuses a tampered signed URL, an upload URL used to read, and an artifact URL's signature", async () => {
    const repo = await repository();
    const a = await attemptOn(repo);
    const made = await twirp(a.token, "CreateCacheEntry", { key: "raw-1", version: "v1" });
    assert.equal(made.status, 200);
    const up = new URL(String(made.body.signed_upload_url));
    assert.match(up.pathname, /^\/caches\/blobs\/\d+$/);
    const bytes = randomBytes(1000);
    const put = await fetch(up, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: bytes });
    assert.equal(put.status, 201);
    const fin = await twirp(a.token, "FinalizeCacheEntryUpload", {
      key: "raw-1",
      version: "v1",
      size_bytes: "1000",
    });
    assert.equal(fin.status, 200);
    const got = await twirp(a.token, "GetCacheEntryDownloadURL", { key: "raw-1", version: "v1" });
    assert.equal(got.body.matched_key, "raw-1");
    const down = new URL(String(got.body.signed_download_url));
    const ranged = await fetch(down, { headers: { range: "bytes=10-19" } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-range"), "bytes 10-19/1000");
    assert.equal(ranged.headers.get("x-ms-blob-type"), "BlockBlob");
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(10, 20)));
    const head = await fetch(down, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "1000");
    const refused = async (u: URL): Promise<string | null> => {
      const res = await fetch(u);
      assert.equal(res.status, 401, u.toString());
      return res.headers.get("x-ms-error-code");
    };
    const tampered = new URL(down);
    tampered.searchParams.set("exp", String(Number(down.searchParams.get("exp")) + 3600));
    assert.equal(await refused(tampered), "UNAUTHORIZED");
    const otherId = new URL(down);
    otherId.pathname = `/caches/blobs/${Number(down.pathname.split("/").pop()) + 1}`;
    await refused(otherId);
    await refused(up);
    // The same grant as an artifact URL (same key, other label) does not open the cache entry.
    const asArtifact = new URL(down);
    asArtifact.pathname = down.pathname.replace("/caches/", "/artifacts/");
    assert.notEqual((await fetch(asArtifact)).status, 200);
    // After the attempt ends, its URL dies with it.
    await s.db.pool.query(`UPDATE jobs SET state = 'completed' WHERE id = $1`, [a.jobId]);
    await refused(down);
  });
});
