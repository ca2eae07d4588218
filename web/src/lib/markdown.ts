// Step summaries (GITHUB_STEP_SUMMARY) as sanitized Markdown: parsed by mdast-util-from-markdown
// with GitHub's extensions into an mdast tree, then turned into a tree of WHITELISTED elements
// (plain data) that components/markdown.tsx renders with JSX. Nothing a job wrote is ever parsed
// as HTML: raw HTML in the Markdown shows as its text; links keep only http(s), mailto and
// relative targets; images become a link with their alt text (the CSP allows no foreign images).
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import type { Nodes, Root } from "mdast";

export const ALLOWED_TAGS = [
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "p",
  "em",
  "strong",
  "del",
  "code",
  "pre",
  "ul",
  "ol",
  "li",
  "input",
  "blockquote",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "hr",
  "br",
  "a",
  "span",
  "sup",
] as const;
export type AllowedTag = (typeof ALLOWED_TAGS)[number];

export interface MdElement {
  tag: AllowedTag;
  /** Only these attributes ever: href/title/rel (a), type/checked/disabled (input), start (ol), align (th/td), class. */
  attrs: Record<string, string | number | boolean>;
  children: MdChild[];
}
export type MdChild = MdElement | string;

export const LINK_REL = "noopener noreferrer nofollow";

/**
 * A link target that is safe to put in href: http:, https:, mailto: or relative (no scheme);
 * undefined for anything else (javascript:, data:, vbscript:, file:, …, also when disguised with
 * control characters or whitespace, which browsers drop from URLs).
 */
export function safeHref(url: string | null | undefined): string | undefined {
  if (url === null || url === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const cleaned = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  if (cleaned === "") return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(cleaned);
  if (scheme) {
    const s = (scheme[1] ?? "").toLowerCase();
    return s === "http" || s === "https" || s === "mailto" ? cleaned : undefined;
  }
  // No scheme: relative. A colon before the first / ? # would be read as a scheme by some parsers.
  const head = cleaned.split(/[/?#]/, 1)[0] ?? "";
  if (head.includes(":") || cleaned.includes("\\")) return undefined;
  return cleaned;
}

const el = (tag: AllowedTag, children: MdChild[], attrs: MdElement["attrs"] = {}): MdElement => ({
  tag,
  attrs,
  children,
});

type Definitions = Map<string, { url: string; title: string | null | undefined }>;

function convert(node: Nodes, defs: Definitions): MdChild[] {
  const kids = (): MdChild[] =>
    "children" in node ? (node.children as Nodes[]).flatMap((c) => convert(c, defs)) : [];
  switch (node.type) {
    case "root":
      return kids();
    case "paragraph":
      return [el("p", kids())];
    case "heading":
      return [el(`h${Math.min(6, Math.max(1, node.depth))}` as AllowedTag, kids())];
    case "text":
      return [node.value];
    case "emphasis":
      return [el("em", kids())];
    case "strong":
      return [el("strong", kids())];
    case "delete":
      return [el("del", kids())];
    case "inlineCode":
      return [el("code", [node.value])];
    case "code":
      return [el("pre", [el("code", [node.value], node.lang ? { class: "lang" } : {})])];
    case "break":
      return [el("br", [])];
    case "thematicBreak":
      return [el("hr", [])];
    case "blockquote":
      return [el("blockquote", kids())];
    case "list":
      return [
        node.ordered
          ? el("ol", kids(), typeof node.start === "number" && node.start !== 1 ? { start: node.start } : {})
          : el("ul", kids()),
      ];
    case "listItem": {
      const children = kids();
      if (typeof node.checked !== "boolean") return [el("li", children)];
      const box = el("input", [], { type: "checkbox", checked: node.checked, disabled: true });
      // Put the box inside the first paragraph so it sits on the text's line.
      const first = children[0];
      if (first && typeof first !== "string" && first.tag === "p") first.children.unshift(box, " ");
      else children.unshift(box, " ");
      return [el("li", children, { class: "task" })];
    }
    case "table": {
      const align = node.align ?? [];
      const rows = node.children.map((row, ri) =>
        el(
          "tr",
          row.children.map((cell, ci) => {
            const a = align[ci];
            return el(
              ri === 0 ? "th" : "td",
              cell.children.flatMap((c) => convert(c, defs)),
              a ? { align: a } : {},
            );
          }),
        ),
      );
      const [head, ...body] = rows;
      return [el("table", [el("thead", head ? [head] : []), el("tbody", body)])];
    }
    case "link":
    case "linkReference": {
      const target =
        node.type === "link" ? { url: node.url, title: node.title } : defs.get(node.identifier.toLowerCase());
      const href = safeHref(target?.url);
      const children = kids();
      if (!href) return [el("span", children, { class: "md-unsafe-link" })];
      return [el("a", children, { href, rel: LINK_REL, ...(target?.title ? { title: target.title } : {}) })];
    }
    case "image":
    case "imageReference": {
      const target = node.type === "image" ? { url: node.url } : defs.get(node.identifier.toLowerCase());
      const alt = node.alt ?? "";
      const text = `image: ${alt || "(no description)"}`;
      const href = safeHref(target?.url);
      return [href ? el("a", [text], { href, rel: LINK_REL, class: "md-image" }) : el("span", [text])];
    }
    case "html":
      // Raw HTML is what the job wrote: shown as text, never parsed.
      return [el("code", [node.value], { class: "md-html" })];
    case "definition":
      return [];
    case "footnoteReference":
      return [el("sup", [`[${node.label ?? node.identifier}]`])];
    case "footnoteDefinition":
      return [el("p", [`[${node.label ?? node.identifier}] `, ...kids()], { class: "md-footnote" })];
    case "tableRow":
    case "tableCell":
    case "yaml":
      return kids();
    default:
      return kids();
  }
}

function definitions(root: Root): Definitions {
  const defs: Definitions = new Map();
  const walk = (n: Nodes): void => {
    if (n.type === "definition") {
      const id = n.identifier.toLowerCase();
      if (!defs.has(id)) defs.set(id, { url: n.url, title: n.title });
    }
    if ("children" in n) for (const c of n.children as Nodes[]) walk(c);
  };
  walk(root);
  return defs;
}

/** Markdown text → the sanitized element tree. Never throws (a parser error shows the text). */
export function markdownToTree(markdown: string): MdChild[] {
  try {
    const root = fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    return convert(root, definitions(root));
  } catch {
    return [el("pre", [markdown])];
  }
}
