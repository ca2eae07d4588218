// Uniform random strings over an alphabet, from the CSPRNG. Rejection sampling: a byte is used only
// when it falls below the largest multiple of the alphabet's size, so no character is likelier than
// another (a plain `byte % n` would favour the first 256 % n characters).
import { randomBytes } from "node:crypto";

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomString(alphabet: string, length: number): string {
  const n = alphabet.length;
  if (n < 2 || n > 256) throw new RangeError("alphabet size must be 2..256");
  const limit = 256 - (256 % n);
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(Math.ceil((length - out.length) * 1.25) + 8)) {
      if (b >= limit) continue;
      out += alphabet[b % n];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A non-negative integer written in `alphabet`, left-padded with its zero character to `width`. */
export function encodeFixed(value: number, alphabet: string, width: number): string {
  let v = value;
  let out = "";
  for (let i = 0; i < width; i++) {
    out = alphabet[v % alphabet.length]! + out;
    v = Math.floor(v / alphabet.length);
  }
  return out;
}
