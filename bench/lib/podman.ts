// The podman side of bench:start: the same job image imported as a local podman image (no
// registry here) and one `podman run --rm --network none --runtime runc` of the step, with the
// sandbox's limits as ulimits. Everything comes from the rootfs folder the sandbox uses, so both
// run the very same files.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);
export const PODMAN_IMAGE = "localhost/airlock-debian-12";

export async function podmanAvailable(): Promise<string | undefined> {
  try {
    await exec("podman", ["--version"]);
    await exec("runc", ["--version"]);
    return undefined;
  } catch {
    return "podman or runc is not installed (scripts/ensure-system.sh --with-podman installs them)";
  }
}

/** Imports `rootfs` as PODMAN_IMAGE once (kept between runs: importing takes ~30 s). */
export async function ensurePodmanImage(rootfs: string): Promise<void> {
  const exists = await exec("podman", ["image", "exists", PODMAN_IMAGE]).then(
    () => true,
    () => false,
  );
  if (exists) return;
  console.log(`importing ${rootfs} as ${PODMAN_IMAGE} (once) ...`);
  await new Promise<void>((resolve, reject) => {
    const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "-cf", "-", "."], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const imp = spawn("podman", ["import", "-", PODMAN_IMAGE], { stdio: ["pipe", "ignore", "inherit"] });
    tar.stdout.pipe(imp.stdin);
    imp.once("error", reject);
    imp.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`podman import exited ${code}`))));
  });
}

export function podmanArgs(
  step: string[],
  limits: { nofile: number; pids: number; memoryMb: number; cpus: number },
): string[] {
  return [
    "run",
    "--rm",
    "--network",
    "none",
    "--runtime",
    "runc",
    "--ulimit",
    `nofile=${limits.nofile}:${limits.nofile}`,
    "--ulimit",
    `nproc=${limits.pids}:${limits.pids}`,
    "--pids-limit",
    String(limits.pids),
    "--memory",
    `${limits.memoryMb}m`,
    "--cpus",
    String(limits.cpus),
    PODMAN_IMAGE,
    ...step,
  ];
}
