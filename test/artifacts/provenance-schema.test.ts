// Airlock's provenance statement held to the in-toto attestation project's own schemas (the
// .proto files of in-toto/attestation, vendored in test/fixtures/in-toto): every field the
// statement writes is a field those messages declare, under its proto3 JSON name (`_type`,
// `predicateType`, `buildDefinition`, ...), with the declared kind — so a standard in-toto/SLSA
// parser reads all of it and ignores nothing.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildStatement } from "../../src/artifacts/provenance/index.js";
import { projectRoot } from "../helpers/repo.js";
import { sampleInput } from "./provenance-fixture.js";

interface Field {
  type: string;
  repeated: boolean;
  map: boolean;
}

/** message name → JSON field name → field, from proto3 sources (comments dropped). */
function parseProtos(files: string[]): Map<string, Map<string, Field>> {
  const messages = new Map<string, Map<string, Field>>();
  for (const f of files) {
    const text = readFileSync(join(projectRoot, "test", "fixtures", "in-toto", f), "utf8").replace(
      /\/\/.*$/gm,
      "",
    );
    for (const m of text.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
      const fields = new Map<string, Field>();
      for (const line of m[2]!.matchAll(
        /^\s*(repeated\s+)?(map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+\s*(\[json_name\s*=\s*"([^"]+)"\])?;/gm,
      )) {
        const name = line[3]!;
        const json = line[5] ?? name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
        const type = line[2]!.split(".").at(-1)!;
        fields.set(json, { type, repeated: line[1] !== undefined, map: type.startsWith("map<") });
      }
      messages.set(m[1]!, fields);
    }
  }
  return messages;
}

const protos = parseProtos(["statement.proto", "resource_descriptor.proto", "provenance.proto"]);
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every problem of `value` as a `message`, by path. `Struct` and maps are free-form by design. */
function check(message: string, value: unknown, path: string, problems: string[]): void {
  const fields = protos.get(message);
  assert.ok(fields, `no message ${message}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${path}: a ${message} must be an object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const f = fields.get(key);
    if (!f) {
      problems.push(`${path}.${key}: ${message} has no such field`);
      continue;
    }
    const items = f.repeated
      ? Array.isArray(v)
        ? v
        : (problems.push(`${path}.${key}: must be an array`), [])
      : [v];
    items.forEach((item: unknown, i) => {
      const at = f.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (f.map) {
        const ok =
          typeof item === "object" &&
          item !== null &&
          Object.values(item).every((x) => typeof x === "string");
        if (!ok) problems.push(`${at}: must map strings to strings`);
      } else if (f.type === "string" && typeof item !== "string") problems.push(`${at}: must be a string`);
      else if (f.type === "bytes" && (typeof item !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(item)))
        problems.push(`${at}: must be base64`);
      else if (f.type === "Timestamp" && (typeof item !== "string" || !RFC3339_UTC.test(item)))
        problems.push(`${at}: must be an RFC 3339 UTC timestamp`);
      else if (f.type === "Struct" && (typeof item !== "object" || item === null || Array.isArray(item)))
        problems.push(`${at}: must be an object`);
      else if (protos.has(f.type)) check(f.type, item, at, problems);
    });
  }
}

describe("the statement against in-toto/attestation's schemas", () => {
  it("parses the vendored schemas (sanity)", () => {
    assert.deepEqual(
      [...protos.get("Statement")!.keys()],
      ["_type", "subject", "predicateType", "predicate"],
    );
    assert.deepEqual([...protos.get("BuildMetadata")!.keys()], ["invocationId", "startedOn", "finishedOn"]);
  });

  it("every field is one the Statement, Provenance and ResourceDescriptor messages declare", () => {
    const s = buildStatement({
      ...sampleInput("ab".repeat(32)),
      builderDependencies: [{ uri: "pkg:npm/airlock@0.1.0", digest: { sha256: "cd".repeat(32) } }],
    });
    const problems: string[] = [];
    check("Statement", s, "statement", problems);
    check("Provenance", s.predicate, "predicate", problems);
    assert.deepEqual(problems, []);
    // The checker does catch a misspelt field and a wrong kind.
    const bad: string[] = [];
    check(
      "Provenance",
      { buildDefinition: { buildtype: "x" }, runDetails: { metadata: { startedOn: "yesterday" } } },
      "p",
      bad,
    );
    assert.deepEqual(bad, [
      "p.buildDefinition.buildtype: BuildDefinition has no such field",
      "p.runDetails.metadata.startedOn: must be an RFC 3339 UTC timestamp",
    ]);
  });
});
