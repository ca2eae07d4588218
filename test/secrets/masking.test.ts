// Every form a secret can take in a log is masked: random secrets run through real tools (base64,
// xxd, bash's printf %q and ${v@Q}, python3's json and urllib) and through encodings at random
// offsets inside longer data (base64 at each alignment, base64url, hex, double base64). Plus the
// minimum length (SECRET_TOO_SHORT), `::add-mask::` values of any length, and line cuts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ErrorCode, isAirlockError } from "../../src/errors/index.js";
import { MIN_SECRET_LENGTH, SecretMasker, checkSecretValue } from "../../src/secrets/masking/index.js";
import { fixedPart } from "../../src/secrets/masking/base64.js";
import { ALPHABETS, randomSecret, rng, seeds, type Random } from "./masking-helpers.js";

const sh = (script: string, value: string): string =>
  execFileSync("bash", ["-c", script, "bash", value], { encoding: "utf8" });

/** A one-line random secret (tools print multi-line values line by line anyway). */
function oneLine(r: Random): string {
  for (;;) {
    const s = randomSecret(r);
    if (!/[\r\n]/.test(s)) return s;
  }
}

/** Whether `out` still holds 8 consecutive characters of `derived` (text fixed by the secret alone). */
function leaks(out: string, derived: string): string | undefined {
  for (let i = 0; i + 8 <= derived.length; i++) {
    const w = derived.slice(i, i + 8);
    if (out.includes(w)) return w;
  }
  return undefined;
}

function assertHidden(m: SecretMasker, text: string, derived: string, what: string): void {
  const out = m.mask(text);
  const w = leaks(out, derived);
  assert.equal(w, undefined, `${what}: ${JSON.stringify(w)} left in ${JSON.stringify(out.slice(0, 400))}`);
}

/** Each output line of a tool is masked whole, except a last line shorter than the minimum. */
function assertLinesHidden(m: SecretMasker, output: string, what: string): void {
  const lines = output.replace(/\n$/, "").split("\n");
  for (const [i, line] of lines.entries()) {
    const masked = m.mask(line);
    const lastShort = i === lines.length - 1 && line.length < MIN_SECRET_LENGTH;
    assert.ok(masked === "***" || lastShort, `${what}: line ${i} ${JSON.stringify(line)} → ${masked}`);
  }
}

describe("masking: forms", () => {
  it("masks the value, its lines, JSON, URL and shell forms (real tools)", () => {
    for (const seed of seeds(40, 7000)) {
      const r = rng(seed);
      const secret = oneLine(r);
      const m = new SecretMasker();
      m.addSecret(secret, "S");
      assert.equal(m.mask(`x ${secret} y`), "x *** y", `seed ${seed}`);
      const json = JSON.stringify({ k: secret });
      assertHidden(m, json, json.slice(6, -2), `JSON.stringify, seed ${seed}`);
      const py = execFileSync(
        "python3",
        [
          "-c",
          "import json,sys,urllib.parse as u; v=sys.argv[1]; print(json.dumps(v)); print(u.quote(v, safe=''))",
          secret,
        ],
        { encoding: "utf8" },
      ).split("\n");
      assertHidden(m, py[0]!, py[0]!.slice(1, -1), `python json.dumps, seed ${seed}`);
      assertHidden(m, `https://h/?t=${py[1]!}&x`, py[1]!, `urllib quote, seed ${seed}`);
      assertHidden(
        m,
        `?t=${encodeURIComponent(secret)}`,
        encodeURIComponent(secret),
        `encodeURIComponent ${seed}`,
      );
      const q = sh('printf "%q" "$1"', secret);
      if (!q.startsWith("$'")) assertHidden(m, `cmd ${q} --flag`, q, `printf %q, seed ${seed}`);
      const qq = sh('printf "%s" "${1@Q}"', secret);
      if (!qq.startsWith("$'")) assertHidden(m, `cmd ${qq}`, qq.slice(1, -1), `\${v@Q}, seed ${seed}`);
      assertHidden(
        m,
        `"${secret.replace(/[\\"$`]/g, "\\$&")}"`,
        secret.replace(/[\\"$`]/g, "\\$&"),
        `"…", ${seed}`,
      );
    }
  });

  it("masks each line of a multi-line secret", () => {
    const m = new SecretMasker();
    const cert = "-----BEGIN KEY-----\r\nline-one-of-key\nline-two-of-key  \n\n-----END KEY-----\n";
    m.addSecret(cert, "CERT");
    assert.equal(m.mask("got line-two-of-key here"), "got *** here");
    assert.equal(m.mask("-----BEGIN KEY-----"), "***");
    assert.equal(
      m.mask(JSON.stringify({ cert: cert.trim() })),
      '{"cert":"***"}',
      "the whole value, JSON-escaped",
    );
    assert.equal(m.mask(Buffer.from(cert.trim()).toString("base64")), "***", "the whole value, base64");
    assert.equal(
      m.mask(JSON.stringify("-----BEGIN KEY-----\r\nline-one-of-key")),
      '"***\\r\\n***"',
      "a part: line by line",
    );
  });

  it("masks base64, base64url and hex at every alignment inside longer data", () => {
    for (const seed of seeds(60, 8000)) {
      const r = rng(seed);
      const secret = oneLine(r);
      const bytes = Buffer.from(secret);
      const m = new SecretMasker();
      m.addSecret(secret, "S");
      for (let a = 0; a < 3; a++) {
        const prefix = randomBytes(a + 3 * r.int(0, 5));
        const data = Buffer.concat([prefix, bytes, randomBytes(r.int(0, 9))]);
        const fixed = fixedPart(bytes, a);
        const b64 = data.toString("base64");
        assertHidden(m, `blob: ${b64}`, fixed, `base64 alignment ${a}, seed ${seed}`);
        const url = data.toString("base64url");
        assertHidden(
          m,
          `blob: ${url}`,
          fixed.replace(/\+/g, "-").replace(/\//g, "_"),
          `base64url ${a}, ${seed}`,
        );
        // The value at the end of the data: nothing of the tail, padding included, is left.
        const tail = Buffer.concat([prefix, bytes]).toString("base64");
        assert.ok(m.mask(tail).endsWith("***"), `base64 tail ${a}, seed ${seed}: ${m.mask(tail)}`);
        assert.ok(m.mask(tail.replace(/=+$/, "")).endsWith("***"), `unpadded tail ${a}, seed ${seed}`);
      }
      const hex = Buffer.concat([randomBytes(r.int(0, 7)), bytes]).toString("hex");
      assertHidden(m, hex, bytes.toString("hex"), `hex, seed ${seed}`);
      assertHidden(m, hex.toUpperCase(), bytes.toString("hex").toUpperCase(), `HEX, seed ${seed}`);
    }
  });

  it("masks double base64 (base64 of base64), at random offsets", () => {
    for (const seed of seeds(60, 9000)) {
      const r = rng(seed);
      const secret = oneLine(r);
      const m = new SecretMasker();
      m.addSecret(secret, "S");
      const bytes = Buffer.from(secret);
      const prefix = randomBytes(r.int(0, 8));
      const inner = Buffer.concat([prefix, bytes, randomBytes(r.int(0, 8))]).toString("base64");
      const innerFixed = fixedPart(bytes, prefix.length % 3);
      const at = inner.indexOf(innerFixed);
      const outerPrefix = randomBytes(r.int(0, 8));
      const outer = Buffer.concat([outerPrefix, Buffer.from(inner), randomBytes(r.int(0, 8))]).toString(
        "base64",
      );
      const derived = fixedPart(Buffer.from(innerFixed), (outerPrefix.length + at) % 3);
      assertHidden(m, `dump ${outer}`, derived, `double base64, seed ${seed}`);
    }
  });

  it("masks what the tools print: echo | base64, printf | base64 | base64, xxd -p", () => {
    for (const seed of seeds(40, 10_000)) {
      const r = rng(seed);
      // Long secrets too: base64 wraps at 76 columns, xxd -p at 60.
      const secret = seed % 4 === 0 ? r.chars(r.int(60, 140), ALPHABETS.alnum) : oneLine(r);
      const m = new SecretMasker();
      m.addSecret(secret, "S");
      for (const script of [
        'echo "$1" | base64',
        'printf %s "$1" | base64',
        'echo "$1" | base64 -w0 | base64 -w0',
        'printf %s "$1" | base64 | base64',
        'echo "$1" | base64 | base64',
        'printf %s "$1" | xxd -p',
        'echo "$1" | xxd -p',
        'printf %s "$1" | basenc --base64url',
      ]) {
        assertLinesHidden(m, sh(script, secret), `${script}, seed ${seed}`);
      }
    }
  });
});

describe("masking: values", () => {
  it("refuses secrets shorter than the minimum with SECRET_TOO_SHORT, naming only the secret", () => {
    const m = new SecretMasker();
    for (const short of ["Zq", "trüe", "1234567", "  abcdefg  ", "🔑🔑🔑🔑"]) {
      assert.throws(
        () => m.addSecret(short, "PIN"),
        (e: unknown) =>
          isAirlockError(e, ErrorCode.SECRET_TOO_SHORT) &&
          e.message.includes("PIN") &&
          !e.message.includes(short.trim()),
        short,
      );
    }
    assert.equal(m.size, 0, "nothing registered");
    m.addSecret("", "UNSET");
    m.addSecret("   ", "BLANK");
    assert.equal(m.size, 0);
    checkSecretValue("OK", "12345678");
    m.addSecret("12345678", "OK");
    assert.equal(m.mask("pin 12345678"), "pin ***");
    assert.equal(m.mask("a 1234567 b"), "a 1234567 b");
  });

  it("masks ::add-mask:: values of any length, their lines, and their forms from the minimum on", () => {
    const m = new SecretMasker();
    m.addMask("ab");
    assert.equal(m.mask("ab cd"), "*** cd");
    assert.equal(m.mask(Buffer.from("ab").toString("base64")), "YWI=", "no forms below the minimum");
    m.addMask("   ");
    assert.equal(m.mask("a   b"), "a   b", "blank values are ignored");
    m.addMask("first-value\nxy");
    assert.equal(m.mask("xy first-value"), "*** ***");
    m.addMask("dynamic-value-42");
    assert.equal(m.mask(Buffer.from("dynamic-value-42").toString("base64")), "***");
  });

  it("says whether a text holds a secret (job outputs)", () => {
    const m = new SecretMasker();
    assert.equal(m.contains("anything"), false);
    m.addSecret("s3cr3t-t0ken", "T");
    assert.equal(m.contains(`x${Buffer.from("s3cr3t-t0ken").toString("hex")}`), true);
    assert.equal(m.contains("s3cr3t-\x1b[1mt0ken"), true, "through escape sequences");
    assert.equal(m.contains("s3cr3t-"), false);
  });

  it("hides the start of a secret at the end of a line cut short", () => {
    const m = new SecretMasker();
    m.addSecret("abcdefgh-secret", "S");
    assert.equal(m.maskCut("data abcdefgh-se"), "data ***");
    assert.equal(m.maskCut("data abc\x1b[1mdef"), "data ***");
    assert.equal(m.maskCut("data xyz"), "data xyz");
    assert.equal(m.maskCut("abcdefgh-secret and abc"), "*** and ***");
  });
});
