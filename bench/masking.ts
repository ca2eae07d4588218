// Benchmark: log throughput through the secret masker with 100 secrets registered (every form of
// each: ~4,000 strings), against a plain copy of the same log stream measured in the same run,
// interleaved (the order alternates every round) and repeated, after one warm-up round.
//   plain copy: 64 KiB chunks of UTF-8 → decoded (StringDecoder) → encoded again into the sink,
//               what moving a job's output through Node costs at the least;
//   masked:     the same, with one MaskStream between decoding and encoding.
//   line by line: the same log split into lines and masked one line at a time, the way the
//               runner masks (its command parser needs whole lines), against the same split
//               without masking.
// Prints MB/s (median, min, max) and the ratio masked/plain per round. Target: at most 3×.
// Usage: npm run bench:masking [-- rounds [MiB]]
import { StringDecoder } from "node:string_decoder";
import { SecretMasker } from "../src/secrets/masking/index.js";
import { benchInput } from "./lib/masking-log.js";
import { machineLine, pct, table } from "./lib/stats.js";

const ROUNDS = Number(process.argv[2] ?? 9);
const MIB = Number(process.argv[3] ?? 64);
const CHUNK = 64 * 1024;
const TARGET = 3;

/** Where output goes: encoded to bytes (as for a socket or a file) and counted. */
class Sink {
  bytes = 0;
  write(text: string): void {
    this.bytes += Buffer.from(text, "utf8").length;
  }
}

type Mask = ((text: string) => string) | undefined;

function chunked(chunks: Buffer[], stream: { write(t: string): string; end(): string } | undefined): number {
  const sink = new Sink();
  const t0 = performance.now();
  const dec = new StringDecoder("utf8");
  for (const c of chunks) {
    const text = dec.write(c);
    sink.write(stream ? stream.write(text) : text);
  }
  sink.write(stream ? stream.write(dec.end()) + stream.end() : dec.end());
  return performance.now() - t0;
}

/** Lines as the runner cuts them (process.ts): per stream, on "\n", the partial line carried over. */
function lineByLine(chunks: Buffer[], mask: Mask): number {
  const sink = new Sink();
  const t0 = performance.now();
  const dec = new StringDecoder("utf8");
  let carry = "";
  const take = (text: string): void => {
    let pos = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", pos)) {
      const line = carry + text.slice(pos, nl);
      carry = "";
      sink.write(mask ? mask(line) : line);
      pos = nl + 1;
    }
    carry += text.slice(pos);
  };
  for (const c of chunks) take(dec.write(c));
  take(dec.end());
  if (carry !== "") sink.write(mask ? mask(carry) : carry);
  return performance.now() - t0;
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const row = (label: string, xs: number[]): string[] => [
  label,
  ...[pct(xs, 50), Math.min(...xs), Math.max(...xs)].map((v) => `${v.toFixed(0)} MB/s`),
];
const ratios = (label: string, xs: number[]): string[] => [
  label,
  ...[pct(xs, 50), Math.min(...xs), Math.max(...xs)].map((v) => `${v.toFixed(2)}×`),
];

const input = benchInput(MIB * 1024 * 1024, CHUNK);
const masker = new SecretMasker();
for (const [i, s] of input.secrets.entries()) masker.addSecret(s, `SECRET_${i}`);

// Once, untimed: the masker does its job on this log (every planted secret hidden).
{
  const dec = new StringDecoder("utf8");
  const s = masker.stream();
  const out = input.chunks.map((c) => s.write(dec.write(c))).join("") + s.end();
  const masks = out.split("***").length - 1;
  const leaked = input.secrets.filter((x) => out.includes(x.split("\n")[0]!));
  if (masks < input.planted || leaked.length > 0) {
    console.error(
      `masking failed: ${masks} masks for ${input.planted} planted secrets, ${leaked.length} leaked`,
    );
    process.exit(1);
  }
}

const plain: number[] = [];
const masked: number[] = [];
const plainLines: number[] = [];
const maskedLines: number[] = [];
const ratio: number[] = [];
const ratioLines: number[] = [];
for (let r = 0; r <= ROUNDS; r++) {
  const runs: Array<() => number> = [
    () => chunked(input.chunks, undefined),
    () => chunked(input.chunks, masker.stream()),
  ];
  const lineRuns: Array<() => number> = [
    () => lineByLine(input.chunks, undefined),
    () => lineByLine(input.chunks, (t) => masker.mask(t)),
  ];
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  const t = [0, 0];
  const l = [0, 0];
  for (const i of order) t[i] = runs[i]!();
  for (const i of order) l[i] = lineRuns[i]!();
  if (r === 0) continue; // warm-up
  plain.push(mbps(input.bytes, t[0]!));
  masked.push(mbps(input.bytes, t[1]!));
  ratio.push(t[1]! / t[0]!);
  plainLines.push(mbps(input.bytes, l[0]!));
  maskedLines.push(mbps(input.bytes, l[1]!));
  ratioLines.push(l[1]! / l[0]!);
}

console.log(
  `masking: ${(input.bytes / 1024 / 1024).toFixed(1)} MiB of build log in ${CHUNK / 1024} KiB chunks, ` +
    `${input.secrets.length} secrets (${masker.size} forms), ${input.planted} planted; ` +
    `${ROUNDS} rounds after a warm-up, interleaved`,
);
console.log("");
table([
  ["throughput", "median", "min", "max"],
  row("plain copy (decode, encode), baseline", plain),
  row("masked (decode, MaskStream, encode)", masked),
  row("line by line, baseline", plainLines),
  row("line by line, masked (the runner's path)", maskedLines),
]);
console.log("");
table([
  ["cost, masked ÷ baseline (per round)", "median", "min", "max"],
  ratios("streams of chunks", ratio),
  ratios("line by line", ratioLines),
]);
const verdict = pct(ratio, 50) <= TARGET ? "met" : "NOT met";
console.log(`target: masking with 100 secrets costs at most ${TARGET}× a plain copy — ${verdict}`);
console.log(machineLine());
