// The bare mirror over real git repositories served by file:// URLs: resolving refs, reading
// files and folders at a commit, changed files, pruning, workflows, polling, hostile input.
import assert from "node:assert/strict";
import { existsSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { openMirror, pollRepository, workflowsAt, type RepoMirror } from "../../src/sources/index.js";
import { commitFiles, git, initRepo, rmDir, tempDir } from "../actions/helpers.js";

let root: string;
let src: string;
let url: string;
let first: string;
let second: string;
let mirror: RepoMirror;

before(async () => {
  root = tempDir("airlock-sources-test-");
  src = join(root, "src");
  first = initRepo(src, {
    "README.md": "hello\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    ".github/workflows/notes.txt": "not a workflow\n",
    ".github/workflows/nested/deep.yml": "on: push\n",
  });
  git(src, "tag", "-a", "v1", "-m", "release 1");
  second = commitFiles(src, { "src/app.ts": "export {};\n", "README.md": "hello again\n" }, "second");
  git(src, "branch", "feature", first);
  url = `file://${src}`;
  mirror = openMirror({ cacheDir: join(root, "cache"), cloneUrl: url });
  await mirror.fetch();
});

after(() => rmDir(root));

void test("one bare folder per clone URL, named by its hash", () => {
  const entries = readdirSync(join(root, "cache"));
  assert.deepEqual(entries, [mirror.dir.slice(join(root, "cache").length + 1)]);
  assert.match(entries[0] ?? "", /^[0-9a-f]{32}\.git$/);
  assert.ok(existsSync(join(mirror.dir, "HEAD")));
  assert.equal(openMirror({ cacheDir: join(root, "cache"), cloneUrl: url }).dir, mirror.dir);
  assert.notEqual(openMirror({ cacheDir: join(root, "cache"), cloneUrl: url + "/" }).dir, mirror.dir);
});

void test("resolve: branches, full refs, annotated tags, commit ids", async () => {
  assert.equal(await mirror.resolve("main"), second);
  assert.equal(await mirror.resolve("refs/heads/main"), second);
  assert.equal(await mirror.resolve("feature"), first);
  assert.equal(await mirror.resolve("v1"), first); // peeled to the commit
  assert.equal(await mirror.resolve("refs/tags/v1"), first);
  assert.equal(await mirror.resolve(second), second);
  assert.equal(await mirror.resolve(second.slice(0, 12)), second);
  assert.equal(await mirror.resolve("nope"), undefined);
  assert.equal(await mirror.resolve("0".repeat(40)), undefined);
  assert.equal(await mirror.hasCommit(first), true);
  assert.equal(await mirror.hasCommit("f".repeat(40)), false);
});

void test("readFile and listFiles at a commit", async () => {
  assert.equal(await mirror.readFile(first, "README.md"), "hello\n");
  assert.equal(await mirror.readFile(first, "README.md", { maxBytes: 6 }), "hello\n");
  await assert.rejects(
    mirror.readFile(first, "README.md", { maxBytes: 5 }),
    (e) =>
      isAirlockError(e, "FILE_TOO_LARGE") && e.message === "README.md is 6 bytes; at most 5 bytes are read",
  );
  assert.equal(await mirror.readFile(second, "README.md"), "hello again\n");
  assert.equal(await mirror.readFile(first, "src/app.ts"), undefined);
  assert.equal(await mirror.readFile(first, ".github"), undefined); // a folder
  assert.deepEqual(await mirror.listFiles(first, ".github/workflows"), [
    ".github/workflows/ci.yml",
    ".github/workflows/notes.txt",
  ]);
  assert.deepEqual(await mirror.listFiles(first, ".github/workflows/"), [
    ".github/workflows/ci.yml",
    ".github/workflows/notes.txt",
  ]);
  assert.deepEqual(await mirror.listFiles(first, ".airlock/workflows"), []);
  assert.deepEqual(await mirror.listFiles(first, "README.md"), []);
  assert.deepEqual(await mirror.listFiles(second, ""), ["README.md"]);
  await assert.rejects(mirror.readFile("f".repeat(40), "README.md"), (e) =>
    isAirlockError(e, "SOURCE_COMMIT_NOT_FOUND"),
  );
});

void test("changedFiles between commits; unknown when from is missing", async () => {
  assert.deepEqual(await mirror.changedFiles(first, second), ["README.md", "src/app.ts"]);
  assert.equal(await mirror.changedFiles(undefined, second), undefined);
  assert.equal(await mirror.changedFiles("0".repeat(40), second), undefined);
  assert.equal(await mirror.changedFiles("e".repeat(40), second), undefined);
});

void test("mergeBase finds the fork point of a branch", async () => {
  const repo = join(root, "mb-src");
  const base = initRepo(repo, { "a.txt": "a\n" });
  git(repo, "checkout", "-q", "-b", "topic");
  const topic = commitFiles(repo, { "t.txt": "t\n" }, "topic");
  git(repo, "checkout", "-q", "main");
  const main = commitFiles(repo, { "m.txt": "m\n" }, "main moves on");
  const m = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `file://${repo}` });
  await m.fetch();
  const fork = await m.mergeBase(main, topic);
  assert.equal(fork, base);
  // Three-dot: only the topic's own changes, not main's.
  assert.deepEqual(await m.changedFiles(fork, topic), ["t.txt"]);
  assert.equal(await m.mergeBase(main, "d".repeat(40)), undefined);
});

void test("commitTime: git's %ct and %cI of a commit; undefined when absent", async () => {
  const t = await mirror.commitTime(second);
  assert.deepEqual(t, {
    seconds: Number(git(src, "show", "-s", "--format=%ct", second)),
    iso: git(src, "show", "-s", "--format=%cI", second),
  });
  assert.equal(Date.parse(t.iso) / 1000, t.seconds);
  assert.equal(await mirror.commitTime("d".repeat(40)), undefined);
});

void test("hostile refs, paths, commit ids and clone URLs are refused", async () => {
  const refInvalid = (e: unknown): boolean => isAirlockError(e, "SOURCE_REF_INVALID");
  for (const ref of [
    "-x",
    "--upload-pack=touch /tmp/x",
    "a..b",
    "main^",
    "main~1",
    "a b",
    "@{1}",
    "a:b",
    "x/",
    ".x",
    "x.lock",
    "",
  ])
    await assert.rejects(mirror.resolve(ref), refInvalid, ref);
  for (const path of ["../x", "/etc/passwd", "a/../../b", "a\nb"])
    await assert.rejects(mirror.readFile(first, path), refInvalid, path);
  for (const commit of ["HEAD", "main", "--all", `${first}:README.md`])
    await assert.rejects(mirror.readFile(commit, "README.md"), refInvalid, commit);
  await assert.rejects(mirror.fetchRef("main"), refInvalid);
  for (const cloneUrl of [
    "--upload-pack=touch /tmp/pwned",
    "ext::sh -c touch% /tmp/pwned",
    "fd::3",
    "gopher://x/y",
    "",
  ])
    assert.throws(
      () => openMirror({ cacheDir: join(root, "cache"), cloneUrl }),
      (e) => isAirlockError(e, "CONFIG_INVALID"),
      cloneUrl,
    );
});

void test("fetch prunes deleted branches and follows forced updates", async () => {
  const m = openMirror({ cacheDir: join(root, "cache-prune"), cloneUrl: url });
  git(src, "branch", "temp", second);
  await m.fetch();
  assert.equal(await m.resolve("temp"), second);
  git(src, "branch", "-D", "temp");
  git(src, "branch", "-f", "feature", second);
  await m.fetch();
  assert.equal(await m.resolve("temp"), undefined);
  assert.equal(await m.resolve("feature"), second);
  git(src, "branch", "-f", "feature", first);
});

void test("workflowsAt: .github/workflows, or .airlock/workflows when present; *.yml/*.yaml only", async () => {
  const gh = await workflowsAt(mirror, first);
  assert.equal(gh.dir, ".github/workflows");
  assert.deepEqual(gh.files, [{ path: ".github/workflows/ci.yml", content: "on: push\njobs: {}\n" }]);

  const repo = join(root, "airlock-src");
  initRepo(repo, {
    ".github/workflows/gh.yml": "on: push\n",
    ".airlock/workflows/a.yaml": "on: pull_request\n",
  });
  symlinkSync("/etc/passwd", join(repo, ".airlock/workflows/link.yml"));
  const c = commitFiles(repo, { ".airlock/workflows/b.yml": "on: push\n" }, "airlock workflows");
  const m = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `file://${repo}` });
  await m.fetch();
  const al = await workflowsAt(m, c);
  assert.equal(al.dir, ".airlock/workflows");
  assert.deepEqual(
    al.files.map((f) => f.path),
    [".airlock/workflows/a.yaml", ".airlock/workflows/b.yml"],
  );
  await assert.rejects(workflowsAt(m, "a".repeat(40)), (e) => isAirlockError(e, "SOURCE_COMMIT_NOT_FOUND"));
});

void test("pollRepository reports a new head once, with the files changed since the last one", async () => {
  const repo = join(root, "poll-src");
  const c1 = initRepo(repo, { "a.txt": "1\n" });
  const m = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `file://${repo}` });
  assert.deepEqual(await pollRepository(m, "main", undefined), { commit: c1 });
  assert.equal(await pollRepository(m, "main", c1), undefined);
  const c2 = commitFiles(repo, { "b.txt": "2\n" }, "two");
  assert.deepEqual(await pollRepository(m, "refs/heads/main", c1), { commit: c2, changedFiles: ["b.txt"] });
  assert.equal(await pollRepository(m, "missing-branch", undefined), undefined);
  await assert.rejects(pollRepository(m, "-oops", undefined), (e) => isAirlockError(e, "SOURCE_REF_INVALID"));
});
