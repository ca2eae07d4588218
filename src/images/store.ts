// The node's content-addressed image store. Layout under the store folder (one filesystem, so
// every rename below is atomic):
//
//   blobs/sha256/<hex>        an image tarball (read-only), named by its SHA-256
//   rootfs/<hex>/             that tarball unpacked once; bound read-only into every machine using it
//   refs/<name>.json          a name → { digest, how it was built }
//   leases/<hex>/<pid>-<id>   one file per machine (or local run) using rootfs/<hex> right now
//   tmp/                      builds and unpacks in progress (renamed into place when complete)
//   lock                      held (lock.ts) only for the final renames and for removal
//
// Two builds at once: each builds and unpacks in its own tmp folder; the first rename of a rootfs
// wins and the loser drops its copy (same digest, same content). Readers never see a half-written
// blob, rootfs or ref. Removal never pulls a rootfs from under a running machine: a rootfs with a
// live lease is not removed (IMAGE_IN_USE, nothing changed); see remove() for the race with a
// machine starting at that very moment.
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { chmod, mkdir, rename, rm, stat, unlink, writeFile, copyFile } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { addMountPoints } from "./mount-points.js";
import { pidAlive, withLock } from "./lock.js";
import { checkImageName } from "./names.js";

export interface ImageRecord {
  name: string;
  /** `sha256:<hex>` of the tarball. */
  digest: string;
  /** Size of the tarball in bytes. */
  sizeBytes: number;
  createdAt: string;
  /** How it was made: mmdebstrap inputs, or the file it was imported from. */
  suite?: string;
  variant?: string;
  packages?: string[];
  importedFrom?: string;
}

export interface ResolvedImage extends ImageRecord {
  /** The unpacked rootfs folder on this node. */
  rootfs: string;
}

/** A rootfs in use: it cannot be removed until release() (idempotent). */
export interface ImageLease extends ResolvedImage {
  release(): void;
}

const HEX = /^[0-9a-f]{64}$/;

export class ImageStore {
  constructor(readonly dir: string) {}

  private p(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Creates the store's folders (idempotent). Traversable by the sandbox's unprivileged user. */
  init(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    for (const d of ["blobs/sha256", "rootfs", "refs", "leases"])
      mkdirSync(this.p(d), { recursive: true, mode: 0o755 });
    mkdirSync(this.p("tmp"), { recursive: true, mode: 0o700 });
  }

  /** Every named image, by name. Never throws for a missing store (no images yet). */
  list(): ImageRecord[] {
    let files: string[];
    try {
      files = readdirSync(this.p("refs"));
    } catch {
      return [];
    }
    const out: ImageRecord[] = [];
    for (const f of files.sort()) {
      if (!f.endsWith(".json")) continue;
      const r = this.readRef(f.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }

  /** Names of the images whose rootfs is present (what this node can run). */
  names(): string[] {
    return this.list()
      .filter((r) => existsSync(this.rootfsOf(r.digest)))
      .map((r) => r.name);
  }

  private readRef(name: string): ImageRecord | undefined {
    try {
      const r = JSON.parse(readFileSync(this.p("refs", `${name}.json`), "utf8")) as ImageRecord;
      return typeof r.digest === "string" && HEX.test(hexOf(r.digest)) ? { ...r, name } : undefined;
    } catch {
      return undefined;
    }
  }

  rootfsOf(digest: string): string {
    return this.p("rootfs", hexOf(digest));
  }

  /** The image of that name with its rootfs, or undefined. Throws IMAGE_INVALID for a bad name. */
  resolve(name: string): ResolvedImage | undefined {
    checkImageName(name);
    const r = this.readRef(name);
    if (!r) return undefined;
    const rootfs = this.rootfsOf(r.digest);
    return existsSync(rootfs) ? { ...r, rootfs } : undefined;
  }

  /**
   * Resolves and leases an image for one machine (or one local run). The lease is written before
   * the rootfs is checked, so a removal that checks leases after our check sees it (see remove()).
   */
  acquire(name: string): ImageLease {
    const r = this.resolve(name);
    if (!r) throw notFound(name, this.dir);
    const dir = this.p("leases", hexOf(r.digest));
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const file = path.join(dir, `${process.pid}-${randomBytes(6).toString("hex")}`);
    writeFileSync(file, "");
    if (!existsSync(r.rootfs)) {
      unlinkSync(file);
      throw notFound(name, this.dir);
    }
    let released = false;
    return {
      ...r,
      release() {
        if (released) return;
        released = true;
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      },
    };
  }

  /** Live leases of a digest (leases of dead processes are cleaned up on the way). */
  private liveLeases(digest: string): number {
    const dir = this.p("leases", hexOf(digest));
    let n = 0;
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      return 0;
    }
    for (const f of files) {
      if (pidAlive(Number(f.split("-")[0]))) n++;
      else rmQuiet(path.join(dir, f));
    }
    return n;
  }

  /**
   * Adds a tarball under `name`: hashes it, stores the blob, unpacks it once, points the name at
   * it. The tarball is moved into the store when `move` (it must then be on the store's
   * filesystem, e.g. built in tmpDir()), else copied. Replaces an earlier image of that name.
   */
  async add(
    name: string,
    tarball: string,
    meta: Omit<ImageRecord, "name" | "digest" | "sizeBytes" | "createdAt">,
    opts: { move?: boolean } = {},
  ): Promise<ResolvedImage> {
    checkImageName(name);
    this.init();
    const hex = await sha256File(tarball);
    const digest = `sha256:${hex}`;
    const sizeBytes = (await stat(tarball)).size;
    const blob = this.p("blobs", "sha256", hex);
    const work = await this.tmpDir("add");
    try {
      if (!existsSync(blob)) {
        const staged = path.join(work, "blob");
        if (opts.move) await rename(tarball, staged);
        else await copyFile(tarball, staged);
        await chmod(staged, 0o444);
        await rename(staged, blob);
      }
      const rootfs = this.rootfsOf(digest);
      if (!existsSync(rootfs)) {
        const unpacked = path.join(work, "rootfs");
        await mkdir(unpacked, { mode: 0o755 });
        await untar(blob, unpacked);
        await chmod(unpacked, 0o755);
        addMountPoints(unpacked);
        await withLock(this.p("lock"), async () => {
          // Another build of the same digest may have won meanwhile: keep its copy.
          if (!existsSync(rootfs)) await rename(unpacked, rootfs);
        });
      }
      const record: ImageRecord = { name, digest, sizeBytes, createdAt: new Date().toISOString(), ...meta };
      const refTmp = path.join(work, "ref.json");
      await writeFile(refTmp, JSON.stringify(record, null, 2) + "\n", { mode: 0o644 });
      await withLock(this.p("lock"), async () => {
        // remove() of another name may have taken this digest's rootfs away since we looked.
        if (!existsSync(rootfs))
          throw new AirlockError(
            ErrorCode.IMAGE_BUILD_FAILED,
            `rootfs of ${digest} vanished while adding ${name}; try again`,
            { retryable: true },
          );
        await rename(refTmp, this.p("refs", `${name}.json`));
      });
      return { ...record, rootfs };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** A fresh private folder on the store's filesystem for a build (caller removes it). */
  async tmpDir(kind: string): Promise<string> {
    this.init();
    const dir = this.p("tmp", `${kind}-${process.pid}-${randomBytes(6).toString("hex")}`);
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Removes the name. When no other name points at its digest, the rootfs and blob go too —
   * unless a machine uses the rootfs: then nothing changes and IMAGE_IN_USE says how many.
   * A machine starting at this very moment writes its lease before checking the rootfs is there;
   * we move the rootfs aside before checking leases a second time, so either it sees the rootfs
   * gone (and fails to start, "not found"), or we see its lease (and put everything back).
   */
  async remove(name: string): Promise<{ digest: string; freedBytes: number }> {
    checkImageName(name);
    return withLock(this.p("lock"), async () => {
      const r = this.readRef(name);
      if (!r) throw notFound(name, this.dir);
      const shared = this.list().some((o) => o.name !== name && o.digest === r.digest);
      if (shared) {
        await unlink(this.p("refs", `${name}.json`));
        return { digest: r.digest, freedBytes: 0 };
      }
      const inUse = (n: number) =>
        new AirlockError(
          ErrorCode.IMAGE_IN_USE,
          `image ${name} is in use by ${n} running machine(s); nothing was removed (try again when they finish)`,
        );
      let n = this.liveLeases(r.digest);
      if (n > 0) throw inUse(n);
      const rootfs = this.rootfsOf(r.digest);
      const aside = this.p("tmp", `remove-${process.pid}-${randomBytes(6).toString("hex")}`);
      const had = existsSync(rootfs);
      if (had) await rename(rootfs, aside);
      n = this.liveLeases(r.digest);
      if (n > 0) {
        if (had) await rename(aside, rootfs);
        throw inUse(n);
      }
      await unlink(this.p("refs", `${name}.json`));
      const blob = this.p("blobs", "sha256", hexOf(r.digest));
      const freedBytes = existsSync(blob) ? statSync(blob).size : 0;
      await rm(blob, { force: true });
      await rm(this.p("leases", hexOf(r.digest)), { recursive: true, force: true });
      if (had) await rm(aside, { recursive: true, force: true, maxRetries: 3 });
      return { digest: r.digest, freedBytes };
    });
  }
}

export function hexOf(digest: string): string {
  return digest.startsWith("sha256:") ? digest.slice(7) : digest;
}

function notFound(name: string, dir: string): AirlockError {
  return new AirlockError(
    ErrorCode.IMAGE_NOT_FOUND,
    `no image "${name}" in ${dir}; build it with: airlock image build ${name}`,
  );
}

function rmQuiet(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // gone already
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Unpacks an image tarball. /dev is the machine's own (device nodes need privileges we may lack). */
function untar(tarball: string, into: string): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const argv = ["--extract", "--file", tarball, "--directory", into, "--exclude=./dev/*"];
  if (asRoot) argv.push("--same-owner", "--numeric-owner", "--preserve-permissions");
  else argv.push("--no-same-owner");
  return new Promise((resolve, reject) => {
    const child = spawn("tar", argv, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    child.once("error", (e) => reject(new AirlockError(ErrorCode.IMAGE_BUILD_FAILED, `tar: ${e.message}`)));
    child.once("close", (code) => {
      if (code === 0) resolve();
      else {
        const line = stderr.trim().split("\n").at(-1) ?? `exit code ${code}`;
        reject(new AirlockError(ErrorCode.IMAGE_BUILD_FAILED, `unpacking ${tarball} failed: ${line}`));
      }
    });
  });
}
