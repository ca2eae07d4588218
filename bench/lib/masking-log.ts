// The input of bench:masking: 100 secrets of the kinds jobs really hold, and a build log made of
// the lines CI jobs really print — compiler and test-runner output (some of it coloured, some of
// it non-ASCII), package-manager warnings, container layer digests (hex), base64 payloads, URLs,
// now and then a long minified line — with a secret, or its base64, in about one line in 5,000.
// Deterministic (seeded), so every run measures the same bytes.

/** mulberry32. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B64 = `${ALNUM}+/`;

export interface BenchInput {
  secrets: string[];
  /** The log as the pipes deliver it: UTF-8 bytes in fixed-size chunks. */
  chunks: Buffer[];
  bytes: number;
  /** Lines holding a secret (or its base64) on purpose. */
  planted: number;
}

export function benchInput(totalBytes: number, chunkBytes: number, seed = 42): BenchInput {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const s = (n: number, alphabet: string): string =>
    Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join("");
  const word = (): string => s(int(3, 10), "abcdefghijklmnopqrstuvwxyz");

  const secrets: string[] = [];
  for (let i = 0; i < 100; i++) {
    const kind = i % 6;
    if (i === 5) {
      const body = Array.from({ length: 25 }, () => s(64, B64)).join("\n");
      secrets.push(`-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----`);
    } else if (kind === 0) secrets.push(`ghp_${s(36, ALNUM)}`);
    else if (kind === 1) secrets.push(`AKIA${s(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`);
    else if (kind === 2) secrets.push(s(40, B64));
    else if (kind === 3) secrets.push(s(int(12, 20), `${ALNUM}!@#$%^&*-_=+`));
    else if (kind === 4) secrets.push(s(32, HEX));
    else secrets.push(`${s(36, ALNUM)}.${s(int(40, 80), ALNUM)}.${s(43, ALNUM)}`);
  }

  const lineKinds: Array<() => string> = [
    () =>
      `[${new Date(1_700_000_000_000 + int(0, 1e9)).toISOString()}] INFO compiling src/${word()}/${word()}.ts (${int(1, 999)} ms)`,
    () => `  CC [M]  drivers/net/ethernet/${word()}/${word()}_${word()}.o`,
    () => `\x1b[32m✓\x1b[39m ${word()} › ${word()} ${word()} \x1b[2m(${int(1, 300)} ms)\x1b[22m`,
    () => `\x1b[31m✗\x1b[39m ${word()} › expected ${int(0, 99)} to equal ${int(0, 99)}`,
    () =>
      `npm WARN deprecated ${word()}@${int(0, 9)}.${int(0, 20)}.${int(0, 9)}: this package is no longer supported`,
    () =>
      `#${int(1, 40)} sha256:${s(64, HEX)} ${int(1, 99)}.${int(0, 9)}MB / ${int(100, 300)}MB ${int(0, 9)}.${int(0, 9)}s`,
    () => `Downloading https://registry.example.org/${word()}/-/${word()}-${int(0, 9)}.${int(0, 20)}.0.tgz`,
    () => `warning: unused variable: \`${word()}\` --> src/${word()}.rs:${int(1, 900)}:${int(1, 80)}`,
    () => `payload: ${s(int(40, 120), B64)}==`,
    () => `commit ${s(40, HEX)} Author: ${word()} <${word()}@example.org>`,
    () =>
      `    at ${word()}.${word()} (/home/runner/work/${word()}/src/${word()}.js:${int(1, 999)}:${int(1, 80)})`,
    () => `Ünïcödé ✓ — ${word()} 日本語 ${word()} … ${int(0, 100)}%`,
  ];
  const longLine = (): string => `{"bundle":"${s(int(5_000, 30_000), `${ALNUM} ,.;:{}[]()"'=+-*/`)}"}`;

  const lines: string[] = [];
  let bytes = 0;
  let planted = 0;
  while (bytes < totalBytes) {
    let line: string;
    if (r() < 1 / 5000) {
      const secret = secrets[int(0, secrets.length - 1)]!.split("\n")[0]!;
      line = r() < 0.5 ? `token=${secret}` : `auth: ${Buffer.from(`user:${secret}`).toString("base64")}`;
      planted++;
    } else if (r() < 1 / 2000) line = longLine();
    else line = lineKinds[int(0, lineKinds.length - 1)]!();
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  const all = Buffer.from(`${lines.join("\n")}\n`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += chunkBytes) chunks.push(all.subarray(i, i + chunkBytes));
  return { secrets, chunks, bytes: all.length, planted };
}
