// Raw YAML access with positions (the `yaml` package, read the same way @actions/workflow-parser
// reads it), so our own checks can report line:col and the model keeps values exactly as written.
import { LineCounter, parseDocument, isAlias, isMap, isScalar, type Document, type Node } from "yaml";
import type { Problem } from "../errors/index.js";

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function readYaml(file: string, content: string): YamlSource {
  const lines = new LineCounter();
  // uniqueKeys off: duplicate keys are reported (with a position) by the schema validation.
  const doc = parseDocument(content, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  return { file, doc, lines };
}

/** First and last line a node spans (1-based). */
export function lineSpan(src: YamlSource, node: Node | null | undefined): [number, number] {
  if (!node?.range) return [1, 1];
  return [
    src.lines.linePos(node.range[0]).line,
    src.lines.linePos(Math.max(node.range[0], node.range[1] - 1)).line,
  ];
}

export function problemAt(src: YamlSource, node: Node | null | undefined, message: string): Problem {
  const pos = node?.range ? src.lines.linePos(node.range[0]) : { line: 1, col: 1 };
  return { file: src.file, line: pos.line, col: pos.col, message };
}

/** A mapping's entries with string keys, in file order. Aliases are resolved. */
export function entries(
  src: YamlSource,
  node: unknown,
): Array<{ key: string; keyNode: Node; value: Node | null }> {
  const resolved = resolve(src, node);
  if (!isMap(resolved)) return [];
  const out: Array<{ key: string; keyNode: Node; value: Node | null }> = [];
  for (const pair of resolved.items) {
    const keyNode = pair.key as Node;
    if (!isScalar(keyNode)) continue;
    out.push({ key: String(keyNode.value), keyNode, value: resolve(src, pair.value) });
  }
  return out;
}

export function get(src: YamlSource, node: unknown, key: string): Node | null | undefined {
  return entries(src, node).find((e) => e.key === key)?.value;
}

export function resolve(src: YamlSource, node: unknown): Node | null {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return (node.resolve(src.doc) as Node | undefined) ?? null;
  return node as Node;
}
