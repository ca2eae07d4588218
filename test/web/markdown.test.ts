// Step summaries as sanitized Markdown: the element tree holds only whitelisted tags and
// attributes, raw HTML stays text, and links keep only safe targets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALLOWED_TAGS,
  LINK_REL,
  markdownToTree,
  safeHref,
  type MdChild,
  type MdElement,
} from "../../web/src/lib/markdown.js";

function elements(tree: MdChild[]): MdElement[] {
  const out: MdElement[] = [];
  const walk = (n: MdChild): void => {
    if (typeof n === "string") return;
    out.push(n);
    n.children.forEach(walk);
  };
  tree.forEach(walk);
  return out;
}
const text = (tree: MdChild[]): string =>
  tree.map((n) => (typeof n === "string" ? n : text(n.children))).join("");

const ALLOWED_ATTRS = new Set([
  "href",
  "rel",
  "title",
  "type",
  "checked",
  "disabled",
  "start",
  "align",
  "class",
]);

function assertSafe(tree: MdChild[]): void {
  for (const e of elements(tree)) {
    assert.ok((ALLOWED_TAGS as readonly string[]).includes(e.tag), `tag ${e.tag}`);
    for (const [k, v] of Object.entries(e.attrs)) {
      assert.ok(ALLOWED_ATTRS.has(k), `attribute ${k}`);
      if (k === "href") assert.match(String(v), /^(https?:|mailto:|[^:]*$)/i);
    }
  }
}

describe("markdown", () => {
  it("renders GitHub-flavoured Markdown into whitelisted elements", () => {
    const tree = markdownToTree(
      "# Title\n\nSome *em* **strong** ~~gone~~ `code`\n\n- [x] done\n- [ ] todo\n\n1. one\n\n> quote\n\n---\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```sh\necho hi\n```\n",
    );
    assertSafe(tree);
    const tags = elements(tree).map((e) => e.tag);
    for (const t of [
      "h1",
      "p",
      "em",
      "strong",
      "del",
      "code",
      "ul",
      "li",
      "input",
      "ol",
      "blockquote",
      "hr",
      "table",
      "th",
      "td",
      "pre",
    ])
      assert.ok(tags.includes(t as MdElement["tag"]), `has ${t}`);
    const boxes = elements(tree).filter((e) => e.tag === "input");
    assert.deepEqual(
      boxes.map((b) => b.attrs.checked),
      [true, false],
    );
    assert.ok(boxes.every((b) => b.attrs.disabled === true && b.attrs.type === "checkbox"));
    assert.deepEqual(
      elements(tree)
        .filter((e) => e.tag === "th")
        .map((e) => e.attrs.align),
      ["left", "right"],
    );
  });

  it("shows script tags and HTML blocks as text", () => {
    const md =
      '<script>window.__xss=1</script>\n\nHi <img src=x onerror="window.__xss=1"> there\n\n<div onclick="x()">block</div>\n';
    const tree = markdownToTree(md);
    assertSafe(tree);
    const all = text(tree);
    assert.ok(all.includes("<script>window.__xss=1</script>"));
    assert.ok(all.includes('<img src=x onerror="window.__xss=1">'));
    assert.ok(all.includes('<div onclick="x()">block</div>'));
    assert.ok(!elements(tree).some((e) => (e.tag as string) === "script" || (e.tag as string) === "img"));
  });

  it("drops javascript:, data: and vbscript: link targets, also disguised", () => {
    const md = [
      "[a](javascript:alert(1))",
      "[b](JaVaScRiPt:alert(1))",
      "[c](java&#x09;script:alert(1))",
      "[d](data:text/html;base64,PHNjcmlwdD4=)",
      "[e](vbscript:msgbox)",
      "[f]: javascript:alert(2)\n\n[f]",
      "<javascript:alert(3)>",
    ].join("\n\n");
    const tree = markdownToTree(md);
    assertSafe(tree);
    assert.equal(elements(tree).filter((e) => e.tag === "a").length, 0);
    assert.ok(text(tree).includes("a"));
  });

  it("keeps http(s), mailto and relative links with rel noopener", () => {
    const tree = markdownToTree(
      "[x](https://example.com/a?b=1) [y](mailto:a@b.c) [z](../docs#top) https://auto.link",
    );
    const links = elements(tree).filter((e) => e.tag === "a");
    assert.deepEqual(
      links.map((l) => l.attrs.href),
      ["https://example.com/a?b=1", "mailto:a@b.c", "../docs#top", "https://auto.link"],
    );
    assert.ok(links.every((l) => l.attrs.rel === LINK_REL));
  });

  it("turns images into links with their alt text, data: images into text", () => {
    const tree = markdownToTree("![chart](https://example.com/c.png) ![evil](data:image/png;base64,AAAA)");
    assertSafe(tree);
    const links = elements(tree).filter((e) => e.tag === "a");
    assert.equal(links.length, 1);
    assert.equal(links[0]?.attrs.href, "https://example.com/c.png");
    assert.equal(text(links[0]?.children ?? []), "image: chart");
    assert.ok(text(tree).includes("image: evil"));
  });

  it("judges hrefs", () => {
    assert.equal(safeHref("https://x"), "https://x");
    assert.equal(safeHref("/runs/1"), "/runs/1");
    assert.equal(safeHref(" javascript:alert(1)"), undefined);
    assert.equal(safeHref("\u0001javascript:x"), undefined);
    assert.equal(safeHref("file:///etc/passwd"), undefined);
    assert.equal(safeHref("a:b/c"), undefined);
    assert.equal(safeHref("\\\\evil"), undefined);
    assert.equal(safeHref(""), undefined);
  });
});
