// The virtualised log: only the rows in view (plus an overscan) are in the DOM, each of a fixed
// height, inside a spacer as tall as the whole (folded) log. A log taller than browsers allow an
// element to be is scrolled through a scaled spacer. Rows are built from the model's line offsets
// on demand; every string is a text node (ANSI colours as classes or CSSOM colours).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { styleProps } from "../lib/ansi.js";
import type { LogModel } from "../lib/log-model.js";
import { linePieces, shortTime } from "../lib/log-render.js";

export const LINE_HEIGHT = 20;
const OVERSCAN = 30;
/** Tallest spacer used (browsers cap element heights near 33 M px). */
const MAX_SPACER = 15_000_000;

export interface LogViewHandle {
  scrollToLine(line: number): void;
  scrollToBottom(): void;
}

export interface LogViewProps {
  model: LogModel;
  version: number;
  timestamps: boolean;
  /** Highlighted lines (0-based, inclusive), from the URL's #L… */
  highlight: { from: number; to: number } | undefined;
  search: { query: string; caseSensitive: boolean; line: number; nth: number } | undefined;
  /** Keep the view at the end while new lines arrive (a running job, scrolled to the bottom). */
  follow: boolean;
  onLineLink: (line: number, extend: boolean) => void;
  onToggle: () => void;
  onFollowChange: (follow: boolean) => void;
  handle: { current: LogViewHandle | undefined };
}

function Row(props: {
  model: LogModel;
  line: number;
  timestamps: boolean;
  highlighted: boolean;
  search: LogViewProps["search"];
  onLineLink: LogViewProps["onLineLink"];
  onToggle: () => void;
}) {
  const { model, line } = props;
  const style = model.lineStyle(line);
  const s = model.lineSection(line);
  const section = s >= 0 ? model.sections[s] : undefined;
  const isSectionHead = section?.headerLine === line;
  const g = model.lineGroup(line);
  const isGroupHead = g >= 0 && model.groups[g]?.headerLine === line;
  const q = props.search;
  const pieces = linePieces(
    model.lineText(line),
    q?.query ?? "",
    q && q.line === line ? q.nth : -1,
    q?.caseSensitive ?? false,
  );
  const n = line + 1;
  const open = isSectionHead ? model.sectionOpen(s) : isGroupHead ? model.groupOpen(g) : false;
  const toggle = (): void => {
    if (isSectionHead) model.setSectionOpen(s, !open);
    else if (isGroupHead) model.setGroupOpen(g, !open);
    props.onToggle();
  };
  const cls = [
    "log-line",
    `log-${style}`,
    props.highlighted ? "log-hl" : "",
    isSectionHead ? `log-section-head log-section-${section?.conclusion ?? "running"}` : "",
    isGroupHead ? "log-group-head" : "",
    g >= 0 && !isGroupHead ? "log-in-group" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div class={cls} data-testid="log-line" data-line={n}>
      <a
        class="ln"
        href={`#L${n}`}
        data-testid="line-link"
        onClick={(e) => {
          e.preventDefault();
          props.onLineLink(line, e.shiftKey);
        }}
      >
        {n}
      </a>
      {props.timestamps && (
        <span class="ts" title={model.lineTime(line)}>
          {shortTime(model.lineTime(line))}
        </span>
      )}
      {(isSectionHead || isGroupHead) && (
        <button
          type="button"
          class="fold"
          onClick={toggle}
          aria-expanded={open}
          data-testid={isSectionHead ? "section-toggle" : "group-toggle"}
          title={open ? "Fold" : "Unfold"}
        >
          {open ? "▾" : "▸"}
        </button>
      )}
      <span class="txt" onClick={isSectionHead || isGroupHead ? toggle : undefined}>
        {pieces.map((p, i) => {
          const { className, css } = styleProps(p.style);
          const mark = p.mark === 2 ? " match current-match" : p.mark === 1 ? " match" : "";
          const c = `${className}${mark}`.trim();
          return c || Object.keys(css).length ? (
            <span key={i} class={c || undefined} style={Object.keys(css).length ? css : undefined}>
              {p.text}
            </span>
          ) : (
            p.text
          );
        })}
      </span>
      {isSectionHead && section && (
        <span class="section-result" data-testid="section-result">
          {section.endLine < 0 ? "running" : (section.conclusion ?? "")}
          {section.duration ? ` · ${section.duration}` : ""}
        </span>
      )}
    </div>
  );
}

export function LogView(props: LogViewProps) {
  const { model } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const rows = model.visible();
  const realHeight = rows.length * LINE_HEIGHT;
  const spacer = Math.min(realHeight, MAX_SPACER);
  // Scaled scrolling for very tall logs: scrollTop 0…(spacer - viewport) maps to 0…(real - viewport).
  const ratio = spacer > viewport && realHeight > spacer ? (realHeight - viewport) / (spacer - viewport) : 1;
  const virtualTop = scrollTop * ratio;
  const first = Math.max(0, Math.floor(virtualTop / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((virtualTop + viewport) / LINE_HEIGHT) + OVERSCAN);
  const offset = first * LINE_HEIGHT - virtualTop + scrollTop;

  const scrollToVirtual = (top: number): void => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = Math.max(0, top / ratio);
    setScrollTop(el.scrollTop);
  };
  props.handle.current = {
    scrollToLine(line: number) {
      const row = model.rowOfLine(line);
      scrollToVirtual(row * LINE_HEIGHT - viewport / 3);
    },
    scrollToBottom() {
      scrollToVirtual(realHeight);
    },
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = (): void => setViewport(el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Follow the end while new lines arrive.
  useEffect(() => {
    if (props.follow) props.handle.current?.scrollToBottom();
  }, [props.version, props.follow]);

  const frame = useRef(0);
  const onScroll = (): void => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scroller.current;
      if (!el) return;
      setScrollTop(el.scrollTop);
      const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_HEIGHT;
      if (atBottom !== props.follow) props.onFollowChange(atBottom);
    });
  };

  const out = [];
  for (let r = first; r < last; r++) {
    const line = rows[r] ?? 0;
    out.push(
      <Row
        key={line}
        model={model}
        line={line}
        timestamps={props.timestamps}
        highlighted={
          props.highlight !== undefined && line >= props.highlight.from && line <= props.highlight.to
        }
        search={props.search}
        onLineLink={props.onLineLink}
        onToggle={props.onToggle}
      />,
    );
  }
  return (
    <div
      class="log-scroll"
      ref={scroller}
      onScroll={onScroll}
      data-testid="log-scroll"
      data-lines={model.lineCount}
    >
      <div class="log-spacer" style={{ height: `${spacer}px` }}>
        <div class="log-window" style={{ transform: `translateY(${offset}px)` }}>
          {out}
        </div>
      </div>
    </div>
  );
}
