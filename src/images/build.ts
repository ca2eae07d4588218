// Builds an image with mmdebstrap: a Debian suite, a variant and extra packages, plus the `runner`
// user (uid/gid 1001, /home/runner, /bin/bash) every job runs as, into a reproducible tarball
// (SOURCE_DATE_EPOCH fixed, host-specific files replaced by fixed content), which the store then
// hashes and unpacks. Everything the user gave is validated first and passed as argv; the one
// shell string mmdebstrap runs (the hook) is a constant of ours that gets the rootfs as "$1".
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { checkBuildInputs, checkImageName, type Variant } from "./names.js";
import type { ImageStore, ResolvedImage } from "./store.js";

export interface BuildRequest {
  name: string;
  packages: string[];
  suite: string;
  variant: Variant;
  /** Debian mirror; default: mmdebstrap's (deb.debian.org). Must be http(s)://. */
  mirror?: string;
  /** Receives mmdebstrap's progress lines (stderr). */
  onLine?: (line: string) => void;
}

export interface BuildResult {
  image: ResolvedImage;
  /** Wall-clock time of mmdebstrap alone, and of the whole build (hash + unpack included). */
  mmdebstrapMs: number;
  totalMs: number;
}

/** 2023-06-10 (Debian 12's release): any constant works, it only has to stay the same. */
export const SOURCE_DATE_EPOCH = "1686355200";

/**
 * The runner user without useradd (not in every variant) and with fixed content: passwd, group,
 * shadow and gshadow lines, and a home folder owned by 1001. Host-specific files mmdebstrap copies
 * (resolv.conf, hostname) get fixed content so the tarball does not depend on the build host.
 */
const CUSTOMIZE = [
  'set -eu; r="$1"',
  'grep -q "^runner:" "$r/etc/group" || echo "runner:x:1001:" >> "$r/etc/group"',
  'grep -q "^runner:" "$r/etc/passwd" || echo "runner:x:1001:1001:Airlock runner:/home/runner:/bin/bash" >> "$r/etc/passwd"',
  'if [ -e "$r/etc/shadow" ]; then grep -q "^runner:" "$r/etc/shadow" || echo "runner:*:19518:0:99999:7:::" >> "$r/etc/shadow"; fi',
  'if [ -e "$r/etc/gshadow" ]; then grep -q "^runner:" "$r/etc/gshadow" || echo "runner:!::" >> "$r/etc/gshadow"; fi',
  'mkdir -p "$r/home/runner"; chown 1001:1001 "$r/home/runner"; chmod 0755 "$r/home/runner"',
  'echo airlock > "$r/etc/hostname"',
  ': > "$r/etc/resolv.conf"',
  'printf "127.0.0.1 localhost airlock\\n::1 localhost ip6-localhost ip6-loopback\\n" > "$r/etc/hosts"',
].join("\n");

const SEARCH = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

export function findMmdebstrap(): string | undefined {
  return SEARCH.map((d) => path.join(d, "mmdebstrap")).find((p) => existsSync(p));
}

/** The argv of one build (exported for tests: everything user-given is one argv element). */
export function mmdebstrapArgs(r: BuildRequest, output: string): string[] {
  const args = [
    `--variant=${r.variant}`,
    "--format=tar",
    // The extract variant (unpacked packages, no maintainer scripts) runs no customize hooks.
    `--${r.variant === "extract" ? "extract" : "customize"}-hook=${CUSTOMIZE}`,
    '--aptopt=Acquire::Retries "3"',
  ];
  if (r.packages.length > 0) args.push(`--include=${r.packages.join(",")}`);
  args.push("--", r.suite, output);
  if (r.mirror !== undefined) args.push(r.mirror);
  return args;
}

export async function buildImage(store: ImageStore, r: BuildRequest): Promise<BuildResult> {
  checkImageName(r.name);
  checkBuildInputs(r);
  if (r.mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(r.mirror)) {
    throw new AirlockError(
      ErrorCode.IMAGE_INVALID,
      `mirror ${JSON.stringify(r.mirror)} must be an http(s):// URL`,
    );
  }
  const bin = findMmdebstrap();
  if (!bin) {
    throw new AirlockError(
      ErrorCode.IMAGE_BUILD_FAILED,
      "mmdebstrap is not installed (apt-get install mmdebstrap, or run scripts/ensure-system.sh as root)",
    );
  }
  const started = Date.now();
  const work = await store.tmpDir("build");
  try {
    const output = path.join(work, "image.tar");
    await run(bin, mmdebstrapArgs(r, output), work, r.onLine);
    const mmdebstrapMs = Date.now() - started;
    const image = await store.add(
      r.name,
      output,
      { suite: r.suite, variant: r.variant, packages: r.packages },
      { move: true },
    );
    return { image, mmdebstrapMs, totalMs: Date.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

function run(bin: string, args: string[], work: string, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: work,
      // mmdebstrap's own temporary rootfs goes beside the output (same filesystem, cleaned with it).
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        SOURCE_DATE_EPOCH,
        TMPDIR: work,
        LC_ALL: "C.UTF-8",
        ...(process.env.http_proxy ? { http_proxy: process.env.http_proxy } : {}),
        ...(process.env.https_proxy ? { https_proxy: process.env.https_proxy } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tail: string[] = [];
    let partial = "";
    const onData = (b: Buffer) => {
      const lines = (partial + b.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        tail.push(l);
        if (tail.length > 20) tail.shift();
        onLine?.(l);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", (e) =>
      reject(new AirlockError(ErrorCode.IMAGE_BUILD_FAILED, `mmdebstrap: ${e.message}`)),
    );
    child.once("close", (code, signal) => {
      if (code === 0) return resolve();
      // The first error names the cause; later ones only say that mmdebstrap gave up.
      const why = [...tail, partial].find((l) => /^\s*E:/.test(l)) ?? tail.at(-1) ?? "";
      reject(
        new AirlockError(
          ErrorCode.IMAGE_BUILD_FAILED,
          `mmdebstrap failed (${signal ?? `exit code ${code}`})${why ? `: ${why.trim()}` : ""}`,
          { details: tail },
        ),
      );
    });
  });
}
