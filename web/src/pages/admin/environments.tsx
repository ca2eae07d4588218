// A repository's environments with their protection rules (required reviewers, reviewer role,
// branch and tag rules, wait timer), and each environment's own secrets and variables.
import { useState } from "preact/hooks";
import type { EnvironmentView } from "./types.js";
import { del, put } from "../../api.js";
import { useApi } from "../../hooks.js";
import { ActionButton, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, Field, ROLES, SecretsPanel, VariablesPanel, type Can } from "./common.js";
import { parseList, parseOptionalInt } from "./logic.js";

function Chips({ items, none }: { items: string[]; none: string }) {
  if (items.length === 0) return <span class="muted">{none}</span>;
  return (
    <span class="chips">
      {items.map((i) => (
        <span>{i}</span>
      ))}
    </span>
  );
}

function EnvironmentForm(props: { repo: number; env?: EnvironmentView; saved: () => void }) {
  const e = props.env;
  const [name, setName] = useState(e?.name ?? "");
  const [reviewers, setReviewers] = useState(e?.reviewers.join(", ") ?? "");
  const [role, setRole] = useState<string>(e?.reviewerRole ?? "");
  const [branches, setBranches] = useState(e?.branches.join(", ") ?? "");
  const [tags, setTags] = useState(e?.tags.join(", ") ?? "");
  const [wait, setWait] = useState(String(e?.waitTimerMinutes ?? 0));
  const submit = async (): Promise<void> => {
    if (!name.trim()) throw new Error("an environment name is required");
    const w = parseOptionalInt(wait, "wait timer", 0, 43200);
    if (!w.ok) throw new Error(w.error);
    await put(`/repositories/${props.repo}/environments/${encodeURIComponent(name.trim())}`, {
      reviewers: parseList(reviewers),
      reviewerRole: role === "" ? null : role,
      branches: parseList(branches),
      tags: parseList(tags),
      waitTimerMinutes: w.value ?? 0,
    });
    if (!e) setName("");
    props.saved();
  };
  return (
    <ApiForm submit={submit} label={e ? "Save rules" : "Add environment"} testId={e ? "env-edit" : "env-add"}>
      {!e && <Field label="Name" value={name} set={setName} testId="env-add-name" required />}
      <Field
        label="Required reviewers (user names, comma-separated; at most 6)"
        value={reviewers}
        set={setReviewers}
        testId="env-reviewers"
      />
      <label>
        Anyone with this role may approve too
        <select value={role} onChange={(ev) => setRole(ev.currentTarget.value)} data-testid="env-role">
          <option value="">nobody else (named reviewers only)</option>
          {ROLES.map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </label>
      <Field
        label="Branches allowed to deploy (patterns; empty with no tags: any)"
        value={branches}
        set={setBranches}
      />
      <Field label="Tags allowed to deploy (patterns)" value={tags} set={setTags} />
      <Field label="Wait timer (minutes)" value={wait} set={setWait} testId="env-wait" />
    </ApiForm>
  );
}

function EnvironmentRow(props: { repo: number; env: EnvironmentView; can: Can; changed: () => void }) {
  const [open, setOpen] = useState<"" | "rules" | "items">("");
  const e = props.env;
  const base = `/repositories/${props.repo}/environments/${encodeURIComponent(e.name)}`;
  return (
    <div class="env" data-testid="env-row" data-name={e.name}>
      <h3>{e.name}</h3>
      <p>
        Reviewers: <Chips items={e.reviewers} none="none" />
        {e.reviewerRole && <> or any {e.reviewerRole}</>}
        <br />
        Branches: <Chips items={e.branches} none={e.tags.length ? "none" : "any"} /> Tags:{" "}
        <Chips items={e.tags} none={e.branches.length ? "none" : "any"} />
        <br />
        Wait timer: {e.waitTimerMinutes} min
      </p>
      <div class="row-actions">
        {props.can("environments.write") && (
          <button
            type="button"
            onClick={() => setOpen(open === "rules" ? "" : "rules")}
            data-testid="env-edit-open"
          >
            Edit rules
          </button>
        )}
        {props.can("secrets.read") && (
          <button
            type="button"
            onClick={() => setOpen(open === "items" ? "" : "items")}
            data-testid="env-items-open"
          >
            Secrets and variables
          </button>
        )}
        {props.can("environments.write") && (
          <ActionButton
            label="Delete"
            danger
            confirm={`Delete ${e.name} with its secrets and variables?`}
            testId="env-delete"
            action={() => del(base)}
            done={props.changed}
          />
        )}
      </div>
      {open === "rules" && (
        <EnvironmentForm
          repo={props.repo}
          env={e}
          saved={() => {
            setOpen("");
            props.changed();
          }}
        />
      )}
      {open === "items" && (
        <>
          <SecretsPanel base={base} canWrite={props.can("secrets.write")} testId="env-secrets" />
          <VariablesPanel base={base} canWrite={props.can("variables.write")} testId="env-variables" />
        </>
      )}
    </div>
  );
}

export function EnvironmentsPanel(props: { repo: number; can: Can }) {
  const list = useApi<EnvironmentView[]>(`/repositories/${props.repo}/environments`);
  const [adding, setAdding] = useState(false);
  return (
    <Section
      title="Environments"
      actions={
        props.can("environments.write") && (
          <button type="button" onClick={() => setAdding(!adding)} data-testid="env-add-open">
            {adding ? "Close" : "Add environment"}
          </button>
        )
      }
    >
      {adding && (
        <EnvironmentForm
          repo={props.repo}
          saved={() => {
            setAdding(false);
            list.reload();
          }}
        />
      )}
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">No environments.</p>}
      {list.data?.map((e) => (
        <EnvironmentRow
          key={e.name}
          repo={props.repo}
          env={e}
          can={props.can}
          changed={() => list.reload()}
        />
      ))}
    </Section>
  );
}
