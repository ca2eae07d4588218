// Building blocks shared by the administration pages: who may do what (buttons absent otherwise),
// values shown once, typed confirmations, and the secrets / variables / members panels that an
// organization, a repository and an environment each have.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { SecretInfo } from "../../../../src/secrets/store.js";
import type { VariableInfo } from "../../../../src/secrets/variables.js";
import type { GrantView } from "../../../../src/auth/grants.js";
import { del, messageOf, put, type Query } from "../../api.js";
import { useApi } from "../../hooks.js";
import { useSession } from "../../session.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import { confirmationMatches, nameProblem } from "./logic.js";

export type Can = ((permission: string) => boolean) & {
  /** The answer is in (or failed): what is absent now stays absent. */
  ready: boolean;
};

/** Whether the signed-in user holds a permission on a target; server administrators hold every one. */
export function useCan(target: Query | undefined): Can {
  const session = useSession();
  const admin = session.kind === "signed-in" && session.user.serverAdmin;
  // Administrators need no question; without a target there is nothing to ask about.
  const { data, loading } = useApi<{ permissions: string[] }>(
    admin || target === undefined ? undefined : "/me/permissions",
    target,
  );
  const can = (p: string): boolean => admin || data?.permissions.includes(p) === true;
  return Object.assign(can, { ready: admin || target === undefined || !loading });
}

export function useServerAdmin(): boolean {
  const session = useSession();
  return session.kind === "signed-in" && session.user.serverAdmin;
}

/** A value the server shows this once (a secret, a token): copy it now; it is gone on dismiss or reload. */
export function ShownOnce(props: { label: string; value: string; testId: string; onDismiss: () => void }) {
  return (
    <div class="secret-once" data-testid={props.testId}>
      <p>
        <strong>{props.label}</strong> — shown once: copy it now, it cannot be shown again.
      </p>
      <code class="mono" data-testid={`${props.testId}-value`}>
        {props.value}
      </code>
      <p>
        <button type="button" onClick={props.onDismiss} data-testid={`${props.testId}-dismiss`}>
          I have copied it
        </button>
      </p>
    </div>
  );
}

/** Removal that needs the object's name typed first (a repository, an organization). */
export function TypedDelete(props: {
  name: string;
  what: string;
  action: () => Promise<unknown>;
  done: () => void;
  testId: string;
}) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" class="danger" onClick={() => setOpen(true)} data-testid={props.testId}>
        Remove {props.what}
      </button>
    );
  const go = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.action();
      props.done();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="typed-delete" onSubmit={(e) => void go(e)}>
      <label>
        Type <code>{props.name}</code> to remove this {props.what} and everything it holds
        <input
          value={typed}
          autoComplete="off"
          onInput={(e) => setTyped(e.currentTarget.value)}
          data-testid={`${props.testId}-name`}
        />
      </label>
      <ErrorLine error={error} />
      <button
        type="submit"
        class="danger"
        disabled={busy || !confirmationMatches(typed, props.name)}
        data-testid={`${props.testId}-confirm`}
      >
        Remove
      </button>{" "}
      <button type="button" onClick={() => setOpen(false)}>
        Keep
      </button>
    </form>
  );
}

/** A form with a submit button, the server's error line, and what was typed kept on failure. */
export function ApiForm(props: {
  submit: () => Promise<unknown>;
  label: string;
  children: ComponentChildren;
  testId: string;
  class?: string;
}) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const go = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.submit();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={props.class ?? "inline-form"} onSubmit={(e) => void go(e)} data-testid={props.testId}>
      {props.children}
      <ErrorLine error={error} />
      <button type="submit" disabled={busy} data-testid={`${props.testId}-submit`}>
        {busy ? "…" : props.label}
      </button>
    </form>
  );
}

/** A text field bound to a state. */
export function Field(props: {
  label: string;
  value: string;
  set: (v: string) => void;
  testId?: string;
  placeholder?: string;
  type?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  return (
    <label>
      {props.label}
      <input
        type={props.type ?? "text"}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        autoComplete={props.autoComplete ?? (props.type === "password" ? "off" : undefined)}
        onInput={(e) => props.set(e.currentTarget.value)}
        data-testid={props.testId}
      />
    </label>
  );
}

/**
 * The list of a place's secrets or variables and the form that sets one: saving checks the name,
 * PUTs the value, empties the form and reads the list again.
 */
function useItems<T>(base: string, kind: "secrets" | "variables") {
  const list = useApi<T[]>(`${base}/${kind}`);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const save = async (): Promise<void> => {
    const problem = nameProblem(name);
    if (problem) throw new Error(problem);
    await put(`${base}/${kind}/${encodeURIComponent(name.trim())}`, { value });
    setValue("");
    setName("");
    list.reload();
  };
  return { list, name, setName, value, setValue, save };
}

/**
 * Secrets of a place (`base`: /organizations/NAME, /repositories/ID, /repositories/ID/environments/ENV):
 * names, versions and times only. The value field is a password field, emptied once saved; a value
 * never comes back from the server, so it is never on the page after saving.
 */
export function SecretsPanel(props: { base: string; canWrite: boolean; testId?: string }) {
  const { list, name, setName, value, setValue, save } = useItems<SecretInfo>(props.base, "secrets");
  const t = props.testId ?? "secrets";
  return (
    <Section title="Secrets">
      <p class="muted">Write-only: values are never shown, not even to administrators.</p>
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">No secrets.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid={`${t}-list`}>
            <thead>
              <tr>
                <th>Name</th>
                <th class="opt">Version</th>
                <th>Updated</th>
                <th class="opt">By</th>
                {props.canWrite && <th />}
              </tr>
            </thead>
            <tbody>
              {list.data.map((s) => (
                <tr key={s.name} data-testid={`${t}-row`} data-name={s.name}>
                  <td class="mono">{s.name}</td>
                  <td class="opt">{s.version}</td>
                  <td>
                    <Ago at={s.updatedAt} />
                  </td>
                  <td class="opt">{s.updatedBy}</td>
                  {props.canWrite && (
                    <td>
                      <button type="button" onClick={() => setName(s.name)} data-testid={`${t}-replace`}>
                        Replace
                      </button>{" "}
                      <ActionButton
                        label="Delete"
                        danger
                        confirm={`Delete ${s.name}?`}
                        testId={`${t}-delete`}
                        action={() => del(`${props.base}/secrets/${encodeURIComponent(s.name)}`)}
                        done={() => list.reload()}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.canWrite && (
        <ApiForm submit={save} label="Save secret" testId={`${t}-form`}>
          <Field label="Name" value={name} set={setName} testId={`${t}-name`} required />
          <label>
            Value
            <input
              type="password"
              autoComplete="off"
              value={value}
              onInput={(e) => setValue(e.currentTarget.value)}
              data-testid={`${t}-value`}
            />
          </label>
        </ApiForm>
      )}
    </Section>
  );
}

/** Variables of a place: values are shown (they are configuration, not secrets). */
export function VariablesPanel(props: { base: string; canWrite: boolean; testId?: string }) {
  const { list, name, setName, value, setValue, save } = useItems<VariableInfo>(props.base, "variables");
  const t = props.testId ?? "variables";
  return (
    <Section title="Variables">
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">No variables.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid={`${t}-list`}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Value</th>
                <th class="opt">Updated</th>
                {props.canWrite && <th />}
              </tr>
            </thead>
            <tbody>
              {list.data.map((v) => (
                <tr key={v.name} data-testid={`${t}-row`} data-name={v.name}>
                  <td class="mono">{v.name}</td>
                  <td class="mono pre">{v.value}</td>
                  <td class="opt">
                    <Ago at={v.updatedAt} />
                  </td>
                  {props.canWrite && (
                    <td>
                      <button
                        type="button"
                        onClick={() => {
                          setName(v.name);
                          setValue(v.value);
                        }}
                      >
                        Edit
                      </button>{" "}
                      <ActionButton
                        label="Delete"
                        danger
                        confirm={`Delete ${v.name}?`}
                        testId={`${t}-delete`}
                        action={() => del(`${props.base}/variables/${encodeURIComponent(v.name)}`)}
                        done={() => list.reload()}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.canWrite && (
        <ApiForm submit={save} label="Save variable" testId={`${t}-form`}>
          <Field label="Name" value={name} set={setName} testId={`${t}-name`} required />
          <label>
            Value
            <textarea
              rows={2}
              value={value}
              onInput={(e) => setValue(e.currentTarget.value)}
              data-testid={`${t}-value`}
            />
          </label>
        </ApiForm>
      )}
    </Section>
  );
}

export const ROLES = ["viewer", "developer", "maintainer", "admin"] as const;

/** Members (role grants) of an organization or a repository; changing them takes `canWrite`. */
export function MembersPanel(props: { base: string; canWrite: boolean; testId?: string }) {
  const list = useApi<GrantView[]>(`${props.base}/members`);
  const [user, setUser] = useState("");
  const [role, setRole] = useState<string>("viewer");
  const t = props.testId ?? "members";
  const grant = async (): Promise<void> => {
    if (!user.trim()) throw new Error("a user name is required");
    await put(`${props.base}/members/${encodeURIComponent(user.trim())}`, { role });
    setUser("");
    list.reload();
  };
  return (
    <Section title="Members and roles">
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">No members.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid={`${t}-list`}>
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th class="opt">Where</th>
                {props.canWrite && <th />}
              </tr>
            </thead>
            <tbody>
              {list.data.map((g) => (
                <tr key={g.id} data-testid={`${t}-row`} data-name={g.userName}>
                  <td>{g.userName}</td>
                  <td>{g.role}</td>
                  <td class="opt">{g.repository ?? `organization ${g.organization}`}</td>
                  {props.canWrite && (
                    <td>
                      <ActionButton
                        label="Remove"
                        danger
                        confirm={`Remove ${g.userName}'s role?`}
                        testId={`${t}-remove`}
                        action={() => del(`${props.base}/members/${encodeURIComponent(g.userName)}`)}
                        done={() => list.reload()}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.canWrite && (
        <ApiForm submit={grant} label="Grant role" testId={`${t}-form`}>
          <Field label="User name" value={user} set={setUser} testId={`${t}-user`} required />
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.currentTarget.value)} data-testid={`${t}-role`}>
              {ROLES.map((r) => (
                <option value={r}>{r}</option>
              ))}
            </select>
          </label>
        </ApiForm>
      )}
    </Section>
  );
}
