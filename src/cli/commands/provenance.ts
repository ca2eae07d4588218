// `airlock provenance key`: the public keys that verify artifact provenance, as PEM on stdout
// (`> key.pem`), fetched from the server's public route (no token sent). `airlock verify
// <artifact> <provenance> --key <pem> [--policy <file>]`: checks signature, statement, digest and
// policy offline, one line per check; any failure exits non-zero with a one-line reason.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ApiClient, provenanceKeys, resolveConnection } from "../api/index.js";
import { collect, printJson, type CliIo } from "./context.js";

interface KeyOptions {
  server?: string;
  organization?: string;
  json?: boolean;
  all?: boolean;
}

export function registerProvenance(program: Command, io: CliIo): void {
  const provenance = program
    .command("provenance")
    .description("artifact provenance: the public keys that verify it (see also: airlock verify)");
  provenance
    .command("key")
    .description("print the provenance public keys as PEM (e.g. > key.pem); public, no token needed")
    .option("--server <url>", "Airlock server (env AIRLOCK_SERVER, default http://127.0.0.1:8420)")
    .option("--organization <name>", "only this organization's keys")
    .option("--json", "print the keys with their keyid, organization and dates as JSON")
    .action(async (opts: KeyOptions) => {
      const conn = await resolveConnection(opts.server ? { server: opts.server } : {}, io.env);
      const client = new ApiClient({ server: conn.server, ...(io.fetch ? { fetch: io.fetch } : {}) });
      const { keys } = await provenanceKeys(client, opts.organization);
      if (opts.json) return printJson(io, { keys });
      if (keys.length === 0)
        throw new AirlockError(
          ErrorCode.NOT_FOUND,
          "no provenance key yet: an organization's key is made when its first artifact's provenance is signed",
        );
      for (const k of keys) {
        io.stdout.write(k.pem.endsWith("\n") ? k.pem : `${k.pem}\n`);
        const state = k.retiredAt ? `retired ${k.retiredAt}` : "signing";
        io.stderr.write(`provenance key ${k.keyid} of organization ${k.organization} (${state})\n`);
      }
    });
}

interface VerifyOptions {
  key: string[];
  policy?: string;
}

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command("verify")
    .description(
      "verify an artifact against its provenance offline: DSSE signature (Ed25519), in-toto/SLSA statement, SHA-256 subject, policy",
    )
    .argument("<artifact>", "the artifact file")
    .argument("<provenance>", "its provenance (DSSE envelope, JSON)")
    .option(
      "--key <file>",
      "PEM public key file(s) to trust (repeatable; airlock provenance key)",
      collect,
      [],
    )
    .option("--policy <file>", "policy the provenance must meet (JSON or YAML; docs/integrity.md)")
    .action(async (artifact: string, provenance: string, opts: VerifyOptions) => {
      const { verifyProvenance } = await import("../../artifacts/provenance/index.js");
      await verifyProvenance(
        {
          artifact,
          provenance,
          keys: opts.key,
          ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
        },
        (c) => io.stdout.write(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}\n`),
      );
      io.stdout.write(`verified: ${artifact}\n`);
    });
}
