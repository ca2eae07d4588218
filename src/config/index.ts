// Options compiled once: reads process.env, validates it, and returns a typed options object
// that is passed down explicitly. A bad setting stops start-up with one line naming it.
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface AirlockOptions {
  /** Where Airlock keeps its state (action cache, machines, embedded database). */
  home: string;
  actionsUrl: string;
  actionsCacheDir: string;
  /** Private folders of machines (each 0700); must be reachable by the sandbox's unprivileged user. */
  machinesDir: string;
  maxParallelJobs: number;
  /** The pool's egress settings (AIRLOCK_EGRESS_ALLOW, _DENY, _DNS; comma-separated lists). */
  egress: { allow: string[]; deny: string[]; dns: string[] };
  /** The node's content-addressed job image store (src/images). */
  imagesDir: string;
  /** AIRLOCK_LOG_FORMAT: server and agent logs as JSON lines or pretty; "auto": pretty on a terminal. */
  logFormat: "json" | "pretty" | "auto";
}

const schema = z.object({
  AIRLOCK_HOME: z.string().min(1).optional(),
  AIRLOCK_ACTIONS_URL: z
    .string()
    .regex(/^(https?|file|git|ssh):\/\//, "must be an http(s)://, file://, git:// or ssh:// URL base")
    .optional(),
  AIRLOCK_MACHINES_DIR: z.string().min(1).optional(),
  AIRLOCK_MAX_PARALLEL_JOBS: z.coerce.number().int().min(1).max(256).optional(),
  AIRLOCK_EGRESS_ALLOW: z.string().optional(),
  AIRLOCK_EGRESS_DENY: z.string().optional(),
  AIRLOCK_EGRESS_DNS: z.string().optional(),
  AIRLOCK_IMAGES_DIR: z.string().min(1).optional(),
  AIRLOCK_LOG_FORMAT: z.enum(["json", "pretty", "auto"]).optional(),
});

const list = (v: string | undefined): string[] => (v ?? "").split(/[\s,]+/).filter((s) => s !== "");

export function loadOptions(env: NodeJS.ProcessEnv = process.env): AirlockOptions {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new AirlockError(ErrorCode.CONFIG_INVALID, `invalid setting ${lines.join("; ")}`);
  }
  const home = parsed.data.AIRLOCK_HOME ?? join(homedir(), ".airlock");
  return {
    home,
    actionsUrl: (parsed.data.AIRLOCK_ACTIONS_URL ?? "https://github.com").replace(/\/+$/, ""),
    actionsCacheDir: join(home, "cache", "actions"),
    // Not under HOME: the sandbox's unprivileged user must be able to reach it (/root is 0700).
    machinesDir: parsed.data.AIRLOCK_MACHINES_DIR ?? join(tmpdir(), "airlock-machines"),
    maxParallelJobs: parsed.data.AIRLOCK_MAX_PARALLEL_JOBS ?? 4,
    logFormat: parsed.data.AIRLOCK_LOG_FORMAT ?? "auto",
    // Validated where they are used (src/egress nodeEgress), with every problem at once.
    egress: {
      allow: list(parsed.data.AIRLOCK_EGRESS_ALLOW),
      deny: list(parsed.data.AIRLOCK_EGRESS_DENY),
      dns: list(parsed.data.AIRLOCK_EGRESS_DNS),
    },
    // As root, one store for the whole node (the agent and `airlock image` share it); the sandbox's
    // unprivileged user must be able to traverse it (not under /root, 0700).
    imagesDir: resolve(
      parsed.data.AIRLOCK_IMAGES_DIR ??
        (process.getuid?.() === 0 ? "/var/lib/airlock/images" : join(home, "images")),
    ),
  };
}
