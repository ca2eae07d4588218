// Matrix expansion with GitHub's semantics: cartesian product of the vectors (first key
// outermost), `exclude` removes combinations that match an entry partially, then each
// `include` entry extends every combination whose ORIGINAL values it does not contradict
// (values added by earlier includes may be overwritten), or is added as a new combination.
import { isDeepStrictEqual } from "node:util";
import { AirlockError, ErrorCode } from "../errors/index.js";

export const MAX_MATRIX_COMBINATIONS = 256;

type Combo = Record<string, unknown>;

function invalid(message: string): AirlockError {
  return new AirlockError(ErrorCode.WORKFLOW_INVALID, message);
}

function entriesOf(value: unknown, key: string): Combo[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`matrix.${key} must be a list of mappings`);
  return value.map((e, i) => {
    if (typeof e !== "object" || e === null || Array.isArray(e))
      throw invalid(`matrix.${key}[${i}] must be a mapping`);
    return e as Combo;
  });
}

export function expandMatrix(matrix: Record<string, unknown>): Array<Record<string, unknown>> {
  const vectors: Array<[string, unknown[]]> = [];
  for (const [key, value] of Object.entries(matrix)) {
    if (key === "include" || key === "exclude") continue;
    if (!Array.isArray(value)) throw invalid(`matrix.${key} must be a list`);
    vectors.push([key, value]);
  }
  const include = entriesOf(matrix.include, "include");
  const exclude = entriesOf(matrix.exclude, "exclude");

  // Refuse before materialising a product no `exclude` could bring back under the limit.
  const size = vectors.reduce((n, [, values]) => n * values.length, 1);
  if (size > MAX_MATRIX_COMBINATIONS * (exclude.length + 1) * 64)
    throw invalid(`The matrix has ${size} combinations; at most ${MAX_MATRIX_COMBINATIONS} are allowed`);
  let combos: Combo[] = [];
  if (vectors.length > 0) {
    combos = [{}];
    for (const [key, values] of vectors) {
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
  }
  combos = combos.filter(
    (c) => !exclude.some((ex) => Object.entries(ex).every(([k, v]) => k in c && isDeepStrictEqual(c[k], v))),
  );

  const originals = combos.map((c) => ({ original: { ...c }, current: c }));
  const added: Combo[] = [];
  for (const entry of include) {
    let matched = false;
    for (const o of originals) {
      const fits = Object.entries(entry).every(
        ([k, v]) => !(k in o.original) || isDeepStrictEqual(o.original[k], v),
      );
      if (fits) {
        Object.assign(o.current, entry);
        matched = true;
      }
    }
    if (!matched) added.push({ ...entry });
  }
  const result = [...originals.map((o) => o.current), ...added];
  if (result.length === 0) throw invalid("The matrix has no combinations");
  if (result.length > MAX_MATRIX_COMBINATIONS)
    throw invalid(
      `The matrix has ${result.length} combinations; at most ${MAX_MATRIX_COMBINATIONS} are allowed`,
    );
  return result;
}
