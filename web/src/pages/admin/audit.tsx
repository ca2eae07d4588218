// /admin/audit (server administrators): the audit log, newest first, filtered by actor, action,
// object and time range, paged with `before`; each entry one line of text.
import { useState } from "preact/hooks";
import type { AuditEntryView } from "./types.js";
import { useApi, useTitle } from "../../hooks.js";
import { ErrorLine, Section } from "../../components/ui.js";
import { Field, useServerAdmin } from "./common.js";
import { auditQuery, detailsText, type AuditFilters } from "./logic.js";

const EMPTY: AuditFilters = { actor: "", action: "", object: "", since: "", until: "" };
const PAGE = 50;

export function AuditPage() {
  useTitle("Audit log");
  const admin = useServerAdmin();
  const [form, setForm] = useState<AuditFilters>(EMPTY);
  const [applied, setApplied] = useState<AuditFilters>(EMPTY);
  /** The `before` cursors of the pages seen, for going back to newer entries. */
  const [cursors, setCursors] = useState<number[]>([]);
  const before = cursors[cursors.length - 1];
  const list = useApi<AuditEntryView[]>(admin ? "/audit" : undefined, auditQuery(applied, before, PAGE));
  if (!admin) return <p class="muted">The audit log is for server administrators.</p>;
  const set = (k: keyof AuditFilters) => (v: string) => setForm({ ...form, [k]: v });
  // A refused filter shows its error, not the entries of the filter before it.
  const rows = list.error ? undefined : list.data;
  const last = rows?.[rows.length - 1];
  return (
    <Section title="Audit log">
      <form
        class="audit-filters"
        data-testid="audit-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setApplied(form);
        }}
      >
        <Field
          label="Action (or prefix, e.g. repository)"
          value={form.action}
          set={set("action")}
          testId="audit-action"
        />
        <Field
          label="Actor (kind or kind:id, e.g. user:1)"
          value={form.actor}
          set={set("actor")}
          testId="audit-actor"
        />
        <Field
          label="Object (e.g. repository:3)"
          value={form.object}
          set={set("object")}
          testId="audit-object"
        />
        <Field
          label="Since"
          type="datetime-local"
          value={form.since}
          set={set("since")}
          testId="audit-since"
        />
        <Field
          label="Until"
          type="datetime-local"
          value={form.until}
          set={set("until")}
          testId="audit-until"
        />
        <div class="buttons">
          <button type="submit" data-testid="audit-apply">
            Filter
          </button>{" "}
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY);
              setApplied(EMPTY);
              setCursors([]);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorLine error={list.error} />
      {rows?.length === 0 && <p class="muted">No entries.</p>}
      <div data-testid="audit-list">
        {rows?.map((a) => (
          <div class="audit-line" data-testid="audit-row" data-action={a.action}>
            {`#${a.seq} ${a.at} ${a.actor.kind}${a.actor.id ? `:${a.actor.id}` : ""}${a.actor.display ? ` (${a.actor.display})` : ""} ${a.action}${a.object ? ` ${a.object.kind}${a.object.id ? `:${a.object.id}` : ""}` : ""}${a.clientAddress ? ` from ${a.clientAddress}` : ""} ${detailsText(a.details)}`}
          </div>
        ))}
      </div>
      <p class="row-actions">
        {cursors.length > 0 && (
          <button type="button" onClick={() => setCursors(cursors.slice(0, -1))} data-testid="audit-newer">
            Newer
          </button>
        )}
        {rows && rows.length === PAGE && last && (
          <button type="button" onClick={() => setCursors([...cursors, last.seq])} data-testid="audit-older">
            Older
          </button>
        )}
      </p>
    </Section>
  );
}
