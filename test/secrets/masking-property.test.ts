// Randomised properties of the masker over seeded cases (MASKING_SEED=<n> reruns one): random
// secrets (lengths, alphabets, unicode, several lines), random text around them with escape
// sequences (also inside the secrets), cut into random chunks, on two streams interleaved. The
// masker must agree with a naive reference byte for byte, whether the text comes whole or in
// chunks, and must leave text that holds no secret exactly as it was.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SecretMasker } from "../../src/secrets/masking/index.js";
import {
  randomChunks,
  randomEscape,
  randomSecret,
  randomText,
  referenceMask,
  rng,
  seeds,
  type Random,
} from "./masking-helpers.js";

function maskerWith(r: Random): { masker: SecretMasker; secrets: string[] } {
  const masker = new SecretMasker();
  const secrets = Array.from({ length: r.int(1, 6) }, () => randomSecret(r));
  for (const [i, s] of secrets.entries()) masker.addSecret(s, `S${i}`);
  return { masker, secrets };
}

/** Splits `form` with escape sequences at random points (never inside a surrogate pair). */
function escapeSplit(r: Random, form: string): string {
  const cps = Array.from(form);
  return cps.map((c, i) => (i > 0 && r.next() < 0.15 ? randomEscape(r) + c : c)).join("");
}

/** Random text with occurrences of the masker's forms in it, some split by escape sequences. */
function textWithSecrets(r: Random, masker: SecretMasker): string {
  const forms = [...masker.registered()];
  const parts: string[] = [];
  for (let i = r.int(1, 12); i > 0; i--) {
    parts.push(randomText(r, r.int(0, 200)));
    const f = r.pick(forms);
    // A "\n"-marked form is masked as a whole line: put it on one.
    if (f.startsWith("\n")) parts.push(`${f}${r.pick(["\n", "\r\n"])}`);
    else parts.push(r.next() < 0.3 ? escapeSplit(r, f) : f);
  }
  parts.push(randomText(r, r.int(0, 100)));
  return parts.join("");
}

function streamed(masker: SecretMasker, chunks: string[]): string {
  const s = masker.stream();
  return chunks.map((c) => s.write(c)).join("") + s.end();
}

const context = (seed: number, text: string): string => `seed ${seed}: ${JSON.stringify(text.slice(0, 300))}`;

describe("masking properties", () => {
  it("agrees with the reference masker on text holding secrets", () => {
    for (const seed of seeds(300, 1000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      const text = textWithSecrets(r, masker);
      const want = referenceMask(text, [...masker.registered()]);
      assert.equal(masker.mask(text), want, context(seed, text));
      assert.notEqual(want, text, "the case holds a secret");
    }
  });

  it("gives the same output whatever the chunk boundaries", () => {
    for (const seed of seeds(300, 2000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      const text = textWithSecrets(r, masker);
      const want = referenceMask(text, [...masker.registered()]);
      assert.equal(streamed(masker, randomChunks(r, text)), want, context(seed, text));
      // One character at a time: the worst case for a value split across chunks.
      if (seed % 10 === 0) assert.equal(streamed(masker, Array.from(text)), want, context(seed, text));
    }
  });

  it("masks stdout and stderr on their own streams, whatever the interleaving", () => {
    for (const seed of seeds(200, 3000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      const texts = [textWithSecrets(r, masker), textWithSecrets(r, masker)];
      const queues = texts.map((t) => randomChunks(r, t));
      const streams = [masker.stream(), masker.stream()];
      const outs = ["", ""];
      while (queues[0]!.length > 0 || queues[1]!.length > 0) {
        const k = queues[0]!.length === 0 ? 1 : queues[1]!.length === 0 ? 0 : r.int(0, 1);
        outs[k] += streams[k]!.write(queues[k]!.shift()!);
      }
      for (const k of [0, 1]) {
        outs[k] += streams[k]!.end();
        assert.equal(outs[k], referenceMask(texts[k]!, [...masker.registered()]), context(seed, texts[k]!));
      }
    }
  });

  it("leaves text without secrets byte for byte as it was (escapes, U+FFFD, long lines)", () => {
    let checked = 0;
    for (const seed of seeds(300, 4000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      let text = randomText(r, r.int(0, 3000));
      if (seed % 25 === 0) text += "x".repeat(100_000) + randomText(r, 50); // one very long line
      if (referenceMask(text, [...masker.registered()]) !== text) continue; // a form by chance
      checked++;
      assert.equal(masker.mask(text), text, context(seed, text));
      assert.equal(masker.contains(text), false, context(seed, text));
      assert.equal(streamed(masker, randomChunks(r, text)), text, context(seed, text));
    }
    assert.ok(checked >= 250, `only ${checked} cases without a secret`);
  });

  it("masks values registered mid-stream (::add-mask::) in everything written after", () => {
    for (const seed of seeds(200, 5000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      const s = masker.stream();
      s.write(randomText(r, r.int(0, 300)));
      const value = randomSecret(r);
      masker.addMask(value);
      const piece = value.split(/\r?\n/)[0]!.trim();
      const rest = `${randomText(r, r.int(0, 100))}${piece}${randomText(r, r.int(0, 100))}`;
      let after = "";
      for (const c of randomChunks(r, rest)) after += s.write(c);
      after += s.end();
      assert.ok(!after.includes(piece), context(seed, rest));
    }
  });

  it("hides a form cut short at the end of a cut line (maskCut)", () => {
    for (const seed of seeds(200, 6000)) {
      const r = rng(seed);
      const { masker } = maskerWith(r);
      const form = r.pick([...masker.registered()].filter((f) => !f.startsWith("\n")));
      // A tab ends the head: the form's first characters cannot finish an escape sequence there.
      const head = `${randomText(r, r.int(0, 100)).replace(/[\r\n]/g, " ")}\t`;
      const cut = `${head}${form.slice(0, r.int(1, form.length - 1))}`;
      assert.ok(masker.maskCut(cut).endsWith("***"), context(seed, cut));
    }
  });
});
