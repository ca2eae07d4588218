// Bounds on a workflow or action file before anything expands it: its size, how many nodes its
// YAML aliases expand to (a 300-byte "billion laughs" file expands to millions of nodes and kept
// GitHub's own parser busy for seconds), and how deeply it nests. Counting is linear in the file:
// each anchored node's expanded size is computed once. A file over a bound gets one problem with
// file:line:col and is not parsed further.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { Problem } from "../errors/index.js";

/** Largest workflow or action file read (GitHub's own limit on a workflow file is 512 KiB). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Most nodes the document may expand to once aliases are resolved. */
export const MAX_EXPANDED_NODES = 100_000;
/** Deepest nesting of mappings and sequences (aliases included). */
export const MAX_DEPTH = 64;

const EXPANDS = `The file expands to more than ${MAX_EXPANDED_NODES} YAML nodes once its aliases are resolved; refused`;

class Over extends Error {
  constructor(
    readonly node: Node | undefined,
    message: string,
  ) {
    super(message);
  }
}

export function yamlBoundProblems(file: string, content: string): Problem[] {
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_FILE_BYTES) {
    return [
      {
        file,
        line: 1,
        col: 1,
        message: `The file is ${bytes} bytes; at most ${MAX_FILE_BYTES} bytes are read`,
      },
    ];
  }
  const lines = new LineCounter();
  const at = (node: Node | undefined, message: string): Problem => {
    const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    return { file, line: pos.line, col: pos.col, message };
  };
  let doc;
  try {
    doc = parseDocument(content, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  } catch {
    // The composer recurses: nesting deep enough to exhaust the stack ends here.
    return [at(undefined, `The file nests more than ${MAX_DEPTH} levels deep`)];
  }
  if (doc.errors.some((e) => e.message.includes("Maximum call stack"))) {
    return [at(undefined, `The file nests more than ${MAX_DEPTH} levels deep`)];
  }
  if (doc.errors.length > 0) return []; // reported with positions by the parsers that follow
  const sizes = new Map<Node, number>();
  const inProgress = new Set<Node>();
  let total = 0;
  const size = (node: unknown, depth: number): number => {
    if (node === null || node === undefined) return 1;
    if (depth > MAX_DEPTH) throw new Over(node as Node, `The file nests more than ${MAX_DEPTH} levels deep`);
    let target = node as Node;
    if (isAlias(node)) {
      const r = node.resolve(doc) as Node | undefined;
      if (!r) return 1;
      target = r;
    }
    const known = sizes.get(target);
    if (known !== undefined) return known;
    if (inProgress.has(target))
      throw new Over(node as Node, "A YAML alias refers to the node that contains it");
    inProgress.add(target);
    let n = 1;
    if (isMap(target) || isSeq(target)) {
      for (const item of target.items as unknown[]) {
        if (isPair(item)) n += size(item.key, depth + 1) + size(item.value, depth + 1);
        else n += size(item, depth + 1);
        if (n > MAX_EXPANDED_NODES) break;
      }
    } else if (!isScalar(target)) n = 1;
    inProgress.delete(target);
    sizes.set(target, n);
    if (isAlias(node)) total += n;
    if (n > MAX_EXPANDED_NODES || total > MAX_EXPANDED_NODES) throw new Over(node as Node, EXPANDS);
    return n;
  };
  try {
    size(doc.contents, 0);
  } catch (err) {
    if (err instanceof Over) return [at(err.node, err.message)];
    if (err instanceof RangeError)
      return [at(undefined, `The file nests more than ${MAX_DEPTH} levels deep`)];
    throw err;
  }
  return [];
}
