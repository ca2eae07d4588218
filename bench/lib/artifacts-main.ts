// bench:artifacts, the measurement and the report. What a user waits for: the upload and the
// download step of a real job (a bubblewrap sandbox on a server run, the official
// `@actions/artifact` client bundled into a JavaScript action, through the machine's job services,
// the agent and the orchestrator's artifact service to the blob store, until the client returns),
// for a 1 GiB file (incompressible; compression level 0 as `upload-artifact` with
// `compression-level: 0`). Baseline, in the same job and interleaved: a plain file copy of the same
// file on the same disk (`cp` then `sync` of the copy: the store fsyncs what it keeps). Each round
// is one job on a fresh machine: copy, upload, copy, download, copy, then `@actions/cache`'s
// saveCache of the same folder, its restoreCache into it again (its file removed), copy. Beside
// them, the floors the official clients set by themselves, with no Airlock in the path: the zip
// `@actions/artifact` makes (archiver, stored) and its SHA-256 into nothing; its whole upload
// (same internal functions) to a plain blob sink in another process of the machine; and the two
// halves of a restore: `@actions/cache`'s GET of the archive from a plain local HTTP server and
// its tar extraction. The same GET through Airlock shows the transport's own share. Those
// functions are the clients' internals, imported by file path (they are not exported).
import { join } from "node:path";
import { build } from "esbuild";
import { forkArtifactsAgent, startArtifactsAgent } from "./artifacts-agent.js";
import { openBenchEnv, startBenchService, until } from "./env.js";
import { makeBenchRepo } from "./repo.js";
import { machineLine, pct, table } from "./stats.js";

/** A plain HTTP server of one file (argv[1]), in its own process; prints its port. */
const SERVE = [
  'const http = require("node:http"), fs = require("node:fs"), file = process.argv[1];',
  "const size = fs.statSync(file).size;",
  "const s = http.createServer((q, r) => { r.writeHead(200, { 'content-length': size });",
  "  fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(r); });",
  's.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port)));',
].join("\n");

/** A plain blob sink in its own process: Put Block at its offset in one file, Put Block List fsyncs. */
const SINK = [
  'const http = require("node:http"), fs = require("node:fs"), fd = fs.openSync(process.argv[1], "w");',
  "let end = 0;",
  "const ok = (r, h) => { r.writeHead(201, { 'x-ms-request-id': '1', 'x-ms-version': '2025-11-05', ...h }); r.end(); };",
  "const s = http.createServer((q, r) => {",
  '  const comp = new URL(q.url, "http://x").searchParams.get("comp"), chunks = [];',
  '  q.on("data", (c) => chunks.push(c));',
  '  q.on("end", () => {',
  '    if (comp === "blocklist") return fs.fsync(fd, () => ok(r, { etag: "\\"1\\"", "last-modified": new Date().toUTCString() }));',
  "    const b = Buffer.concat(chunks), at = end; end += b.length;",
  "    fs.write(fd, b, 0, b.length, at, (e) => (e ? (r.writeHead(500), r.end()) : ok(r, {})));",
  "  });",
  "});",
  's.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port)));',
].join("\n");

const ACTION = `
const SERVE = ${JSON.stringify(SERVE)};
const SINK = ${JSON.stringify(SINK)};
import { DefaultArtifactClient } from "@actions/artifact";
import * as cache from "@actions/cache";
import archiver from "archiver";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createTempDirectory, getCacheVersion, getCompressionMethod } from "./node_modules/@actions/cache/lib/internal/cacheUtils.js";
import { internalCacheTwirpClient } from "./node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js";
import { createTar, extractTar } from "./node_modules/@actions/cache/lib/internal/tar.js";
import { downloadCacheHttpClient } from "./node_modules/@actions/cache/lib/internal/downloadUtils.js";
import { getUploadZipSpecification } from "./node_modules/@actions/artifact/lib/internal/upload/upload-zip-specification.js";
import { createZipUploadStream } from "./node_modules/@actions/artifact/lib/internal/upload/zip.js";
import { uploadToBlobStorage } from "./node_modules/@actions/artifact/lib/internal/upload/blob-upload.js";
const input = (n) => process.env["INPUT_" + n.toUpperCase()] ?? "";
const client = new DefaultArtifactClient();
const root = process.env.GITHUB_WORKSPACE + "/" + input("path");
const t0 = performance.now();
if (input("op") === "save") {
  const id = await cache.saveCache([input("path")], input("name"));
  if (id <= 0) throw new Error("saveCache returned " + id);
  console.log("ELAPSED save " + Math.round(performance.now() - t0));
} else if (input("op") === "restore") {
  const hit = await cache.restoreCache([input("path")], input("name"));
  if (!hit) throw new Error("cache miss");
  console.log("ELAPSED restore " + Math.round(performance.now() - t0));
} else if (input("op") === "floor") {
  // The client's own part of a restore alone, with no Airlock in the path: restoreCache's download
  // (its HTTP client, into a file) of the same archive from a plain local HTTP server (another
  // process of the same machine), then its extraction (tar with the same decompressor).
  const method = await getCompressionMethod();
  const folder = await createTempDirectory();
  // The same GET of the entry restoreCache just restored, through Airlock (job services, agent,
  // orchestrator): the transport's share of a restore.
  const entry = await internalCacheTwirpClient().GetCacheEntryDownloadURL({
    key: input("name"), restoreKeys: [], version: getCacheVersion([input("path")], method, false),
  });
  spawnSync("sync");
  const t0 = performance.now();
  await downloadCacheHttpClient(entry.signedDownloadUrl, folder + "/via");
  console.log("ELAPSED airget " + Math.round(performance.now() - t0));
  rmSync(folder + "/via");
  spawnSync("sync");
  await createTar(folder, [input("path")], method);
  // Each timed part starts with nothing left to write back (the archive just made is 1 GiB).
  spawnSync("sync");
  const archive = folder + "/" + (method === "gzip" ? "cache.tgz" : "cache.tzst");
  const server = spawn(process.execPath, ["-e", SERVE, archive], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) => server.stdout.once("data", (d) => resolve(Number(String(d)))));
  const got = folder + "/got";
  const t1 = performance.now();
  await downloadCacheHttpClient("http://127.0.0.1:" + port + "/cache", got);
  console.log("ELAPSED fetch " + Math.round(performance.now() - t1));
  server.kill();
  rmSync(archive);
  rmSync(root + "/big.bin");
  spawnSync("sync");
  const t2 = performance.now();
  await extractTar(got, method);
  console.log("ELAPSED untar " + Math.round(performance.now() - t2));
  rmSync(folder, { recursive: true });
} else if (input("op") === "sink") {
  // The client's whole upload (its zip, its SHA-256, its blob client's blocks) with no Airlock in
  // the path: to a plain local HTTP server (another process of this machine) that writes each
  // block to one file and fsyncs it once at the block list, as cp + sync does.
  const server = spawn(process.execPath, ["-e", SINK, root + "/../sink.bin"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) => server.stdout.once("data", (d) => resolve(Number(String(d)))));
  const t1 = performance.now();
  const zip = await createZipUploadStream(getUploadZipSpecification([root + "/big.bin"], root), 0);
  const r = await uploadToBlobStorage("http://127.0.0.1:" + port + "/blob/big.zip?sig=x", zip, "application/zip");
  console.log("ELAPSED sinkup " + Math.round(performance.now() - t1) + " " + r.uploadSize);
  server.kill();
  rmSync(root + "/../sink.bin");
} else if (input("op") === "zip") {
  // The client's own work alone: the zip @actions/artifact makes (archiver, its settings) and the
  // SHA-256 it computes, into nothing: no network, no server.
  const zip = archiver.create("zip", { highWaterMark: 8 * 1024 * 1024, zlib: { level: 0 } });
  const hash = createHash("sha256");
  let size = 0;
  zip.on("data", (d) => { hash.update(d); size += d.length; });
  const done = new Promise((resolve, reject) => { zip.on("end", resolve); zip.on("error", reject); });
  zip.file(root + "/big.bin", { name: "big.bin" });
  zip.finalize();
  await done;
  hash.digest("hex");
  console.log("ELAPSED zip " + Math.round(performance.now() - t0) + " " + size);
} else if (input("op") === "upload") {
  const r = await client.uploadArtifact(input("name"), [root + "/big.bin"], root, { compressionLevel: 0 });
  console.log("ELAPSED upload " + Math.round(performance.now() - t0) + " " + r.size);
} else {
  const { artifact } = await client.getArtifact(input("name"));
  await client.downloadArtifact(artifact.id, { path: root });
  console.log("ELAPSED download " + Math.round(performance.now() - t0) + " " + artifact.size);
}
`;

async function bundledAction(): Promise<string> {
  const out = await build({
    stdin: { contents: ACTION, resolveDir: process.cwd(), loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return out.outputFiles[0]!.text;
}

const COPY = `s=$(date +%s%N); cp big/big.bin copy.bin && sync copy.bin; e=$(date +%s%N); echo "ELAPSED copy $(( (e - s) / 1000000 ))"; rm copy.bin`;

function workflow(rounds: number, mib: number): string {
  const jobs = Array.from(
    { length: rounds },
    (_, i) => `  round${i + 1}:
    runs-on: [artifact-bench]
    ${i > 0 ? `needs: round${i}\n    ` : ""}steps:
      - run: mkdir big && head -c ${mib}M /dev/urandom > big/big.bin
      - run: ${JSON.stringify(COPY)}
      - uses: ./.github/actions/artifact
        with: { op: zip, name: none, path: big }
      - uses: ./.github/actions/artifact
        with: { op: sink, name: none, path: big }
      - uses: ./.github/actions/artifact
        with: { op: upload, name: big-${i + 1}, path: big }
      - run: ${JSON.stringify(COPY)}
      - uses: ./.github/actions/artifact
        with: { op: download, name: big-${i + 1}, path: got }
      - run: ${JSON.stringify(COPY)}
      - run: rm -rf got
      - uses: ./.github/actions/artifact
        with: { op: save, name: big-cache-${i + 1}, path: big }
      - run: rm big/big.bin
      - uses: ./.github/actions/artifact
        with: { op: restore, name: big-cache-${i + 1}, path: big }
      - uses: ./.github/actions/artifact
        with: { op: floor, name: big-cache-${i + 1}, path: big }
      - run: ${JSON.stringify(COPY)}
`,
  );
  return `on: push\njobs:\n${jobs.join("")}`;
}

const mbps = (bytes: number, ms: number): number => bytes / 1024 / 1024 / (ms / 1000);

export async function runArtifactsBench(rounds: number, mib: number): Promise<void> {
  const env = await openBenchEnv("airlock-bench-artifacts-");
  let agent: { stop(): Promise<void> } | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const b = await startBenchService(env, "service");
    stop = () => b.service.stop();
    await b.api("POST", "/api/v1/flavours", {
      name: "artifact-bench",
      cpus: 2,
      memoryMb: 4096,
      diskMb: mib * 4 + 1024,
      labels: ["artifact-bench"],
    });
    const spec = {
      serverUrl: b.service.url,
      registrationToken: await b.addNode("bench"),
      dataDir: await env.dir("agent"),
      actionsDir: await env.dir("actions"),
      mib,
    };
    // The agent in the orchestrator's process, as `airlock up` and `airlock server` run their
    // built-in agent; BENCH_AGENT=process: in a process of its own, as `airlock agent` on a node.
    agent =
      process.env.BENCH_AGENT === "process"
        ? await forkArtifactsAgent(spec)
        : await startArtifactsAgent(spec);
    const repo = makeBenchRepo(join(env.root, "repo"), {
      ".github/workflows/ci.yml": workflow(rounds, mib),
      ".github/actions/artifact/action.yml":
        "name: artifact\ninputs:\n  op: {}\n  name: {}\n  path: {}\nruns:\n  using: node20\n  main: index.mjs\n",
      ".github/actions/artifact/index.mjs": await bundledAction(),
    });
    const created = await b.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "bench/artifacts",
      cloneUrl: repo.dir,
    });
    // A GitHub repository: the toolkit needs GITHUB_SERVER_URL to be github.com.
    await b.api("PUT", `/api/v1/repositories/${created.id}/forge`, { kind: "github" });
    const { runs } = await b.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${created.id}/runs`,
      {},
    );
    const runId = runs[0]!.id;
    const run = await until(
      async () => {
        const r = await b.api<{
          state: string;
          conclusion: string;
          jobs: Array<{ id: number; name: string }>;
        }>("GET", `/api/v1/runs/${runId}`);
        return r.state === "completed" ? r : undefined;
      },
      "the benchmark run",
      rounds * 600_000,
      500,
    );
    const copy: number[] = [];
    const upload: number[] = [];
    const download: number[] = [];
    const save: number[] = [];
    const restore: number[] = [];
    const zip: number[] = [];
    const fetched: number[] = [];
    const untar: number[] = [];
    const airget: number[] = [];
    const sinkup: number[] = [];
    let bytes = mib * 1024 * 1024;
    for (const job of run.jobs) {
      const res = await fetch(`${b.service.url}/api/v1/jobs/${job.id}/logs`, {
        headers: { authorization: `Bearer ${b.token}` },
      });
      const log = await res.text();
      if (run.conclusion !== "success") throw new Error(`the benchmark run failed:\n${log.slice(-4000)}`);
      for (const m of log.matchAll(
        /ELAPSED (copy|zip|upload|download|save|restore|fetch|airget|untar|sinkup) (\d+)(?: (\d+))?/g,
      )) {
        const v = Number(m[2]);
        const into = { copy, zip, upload, download, save, restore, fetch: fetched, airget, untar, sinkup }[
          m[1] as "copy"
        ];
        into.push(v);
        if (m[3] !== undefined && m[1] === "upload") bytes = Number(m[3]);
      }
    }
    const med = (xs: number[]): number => pct(xs, 50);
    console.log(
      `\nbench:artifacts — ${rounds} rounds of a ${mib} MiB artifact (sizes as stored: ${bytes} bytes)`,
    );
    table([
      ["", "median ms", "min ms", "max ms", "median MiB/s", "vs copy"],
      ...(
        [
          ["plain copy (cp + sync)", copy],
          ["client's zip + sha256 alone", zip],
          ["client's upload alone, plain sink", sinkup],
          ["artifact upload", upload],
          ["artifact download", download],
          ["cache save (tar + upload)", save],
          ["cache restore (download + untar)", restore],
          ["client's GET alone, plain server", fetched],
          ["client's untar alone", untar],
          ["client's GET through Airlock", airget],
        ] as Array<[string, number[]]>
      ).map(([name, xs]) => [
        name,
        med(xs).toFixed(0),
        Math.min(...xs).toFixed(0),
        Math.max(...xs).toFixed(0),
        mbps(bytes, med(xs)).toFixed(0),
        `${((100 * med(copy)) / med(xs)).toFixed(0)} %`,
      ]),
    ]);
    console.log(
      `(rate relative to the copy: copy median time / this median time; ${copy.length} copies, interleaved)`,
    );
    console.log(
      `upload vs the client's own upload to a plain local sink (${((100 * med(copy)) / med(sinkup)).toFixed(0)} % of the copy's rate): ${((100 * med(sinkup)) / med(upload)).toFixed(0)} % of that rate`,
    );
    const floor = med(fetched) + med(untar);
    console.log(
      `restore vs the client's own GET from a plain local server + its untar (${floor.toFixed(0)} ms, ${((100 * med(copy)) / floor).toFixed(0)} % of the copy's rate): ${((100 * floor) / med(restore)).toFixed(0)} % of that rate`,
    );
    console.log(machineLine());
  } finally {
    await agent?.stop();
    await stop?.();
    await env.close();
  }
}
