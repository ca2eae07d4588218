// Reading action.yml / action.yaml and turning parser problems into one ACTION_INVALID error that
// lists every problem with file:line:col.
import { lstat, open, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { AirlockError, ErrorCode, formatProblem } from "../errors/index.js";
import type { ActionManifest } from "../runner/types.js";
import { MAX_FILE_BYTES, parseActionManifestOffLoop } from "../workflow/index.js";

export const MANIFEST_NAMES = ["action.yml", "action.yaml"] as const;

/** Parses manifest text; `file` is how problems name the file. */
export async function parseManifestOrThrow(file: string, content: string): Promise<ActionManifest> {
  // Off the event loop, bounded in size, expansion and time (a job's action.yml is hostile input).
  const { manifest, problems } = await parseActionManifestOffLoop(file, content);
  if (problems.length > 0 || !manifest) {
    const lines =
      problems.length > 0 ? problems.map(formatProblem) : [`${file}: not a valid action manifest`];
    throw new AirlockError(ErrorCode.ACTION_INVALID, `invalid action ${file}:\n${lines.join("\n")}`, {
      details: problems,
    });
  }
  return manifest;
}

/**
 * Reads `rel` below the host folder `root`, refusing anything (symlinks included) that resolves
 * outside root. Absent files give undefined.
 */
export async function readContained(root: string, rel: string): Promise<string | undefined> {
  const candidate = join(root, rel);
  try {
    await lstat(candidate);
  } catch {
    return undefined;
  }
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return undefined; // a dangling symlink
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new AirlockError(ErrorCode.ACTION_INVALID, `${rel} points outside its repository`);
  }
  // Bounded like any file a job source provides (the parser reports the size).
  const fh = await open(real, "r");
  try {
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}

/** Finds and parses the manifest in host folder `root`/`sub`. `display` names it in messages. */
export async function readHostManifest(root: string, sub: string, display: string): Promise<ActionManifest> {
  for (const name of MANIFEST_NAMES) {
    const rel = sub ? `${sub}/${name}` : name;
    const content = await readContained(root, rel);
    if (content !== undefined) return await parseManifestOrThrow(`${display}/${rel}`, content);
  }
  throw new AirlockError(
    ErrorCode.ACTION_NOT_FOUND,
    `${display}: no action.yml or action.yaml in "${sub || "."}"`,
  );
}
