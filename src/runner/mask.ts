// Secret masking for everything the runner emits (log lines, annotations, summaries, names).
//
// Like actions/runner's SecretMasker, every registered value is replaced by `***`, together with
// cheap derived forms (each line of a multi-line value, base64 at the three byte alignments,
// URL and JSON escaping) so `echo $SECRET | base64` or a secret inside a URL does not leak.
//
// Minimum length: GitHub masks any non-empty value, which turns a secret "1" or "true" into log
// noise everywhere. We mask job secrets, their lines and all derived forms only from
// MIN_SECRET_LENGTH characters on; an explicit `::add-mask::` value is masked whatever its length
// (the step asked for exactly that value), except when it is blank.

export const MIN_SECRET_LENGTH = 3;
/** Base64 fragments shorter than this would match unrelated base64 text too often. */
const MIN_BASE64_LENGTH = 6;
export const MASK = "***";

export class Masker {
  private readonly values = new Set<string>();

  /** Registers a secret (job secret or similar): the value, its lines and encoded forms. */
  addSecret(value: string): void {
    this.addDerived(value, MIN_SECRET_LENGTH);
  }

  /** Registers an `::add-mask::` value: masked even when short, unless blank. */
  addMask(value: string): void {
    if (value.trim() === "") return;
    this.values.add(value);
    this.addDerived(value, MIN_SECRET_LENGTH);
  }

  private addDerived(value: string, min: number): void {
    const forms = new Set<string>([value]);
    const lines = value.split(/\r?\n/).map((l) => l.trimEnd());
    if (lines.length > 1) for (const l of lines) forms.add(l);
    for (const form of [...forms]) {
      if (form.length < min) continue;
      this.values.add(form);
      for (const b of base64Forms(form)) this.values.add(b);
      const url = encodeURIComponent(form);
      if (url !== form) this.values.add(url);
      const json = JSON.stringify(form).slice(1, -1);
      if (json !== form) this.values.add(json);
    }
  }

  /** Whether `text` contains any registered value. */
  contains(text: string): boolean {
    for (const v of this.values) if (text.includes(v)) return true;
    return false;
  }

  mask(text: string): string {
    if (this.values.size === 0 || text === "") return text;
    // Collect every occurrence of every value, merge overlapping ranges, then replace once: the
    // result does not depend on the order in which values were registered.
    const ranges: Array<[number, number]> = [];
    for (const v of this.values) {
      let i = text.indexOf(v);
      while (i >= 0) {
        ranges.push([i, i + v.length]);
        i = text.indexOf(v, i + 1);
      }
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = "";
    let pos = 0;
    let cur: [number, number] | undefined;
    for (const r of ranges) {
      if (cur && r[0] <= cur[1]) {
        cur[1] = Math.max(cur[1], r[1]);
        continue;
      }
      if (cur) {
        out += text.slice(pos, cur[0]) + MASK;
        pos = cur[1];
      }
      cur = [r[0], r[1]];
    }
    if (cur) {
      out += text.slice(pos, cur[0]) + MASK;
      pos = cur[1];
    }
    return out + text.slice(pos);
  }

  /**
   * For text cut short at an arbitrary point: like mask(), and a tail that is the beginning of a
   * registered value (a secret the cut split) is masked too.
   */
  maskCut(text: string): string {
    const masked = this.mask(text);
    let tail = 0;
    for (const v of this.values) {
      for (let k = Math.min(v.length - 1, masked.length); k > tail; k--) {
        if (masked.endsWith(v.slice(0, k))) {
          tail = k;
          break;
        }
      }
    }
    return tail === 0 ? masked : masked.slice(0, masked.length - tail) + MASK;
  }
}

/**
 * The base64 text of `value` as it appears inside a longer base64 stream, for each of the three
 * byte alignments: only the characters fully determined by the value's own bytes are kept.
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const out = new Set<string>([bytes.toString("base64")]);
  for (let shift = 0; shift < 3; shift++) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const frag = enc.slice(start, end);
    if (frag.length >= MIN_BASE64_LENGTH) out.add(frag);
  }
  return [...out].filter((f) => f.length >= MIN_BASE64_LENGTH);
}
