// Renders Markdown (a step summary) through the whitelisted tree of lib/markdown.ts: every tag and
// attribute comes from that list, every string is a JSX text node. No HTML is ever parsed.
import { h, type ComponentChildren } from "preact";
import { useMemo } from "preact/hooks";
import { markdownToTree, type MdChild } from "../lib/markdown.js";

function render(node: MdChild, key: number): ComponentChildren {
  if (typeof node === "string") return node;
  const { class: cls, ...attrs } = node.attrs;
  const props: Record<string, unknown> = { key, ...attrs };
  if (cls !== undefined) props.class = String(cls);
  if (node.tag === "input") props.readOnly = true;
  return h(node.tag, props, ...node.children.map(render));
}

export function Markdown({ text }: { text: string }) {
  const tree = useMemo(() => markdownToTree(text), [text]);
  return <div class="markdown">{tree.map(render)}</div>;
}
