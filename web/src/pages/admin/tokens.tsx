// API tokens: a list with revoke, and a form that makes one (name, scopes, days) and shows it once.
// Used for one's personal tokens (/tokens) and an organization's service tokens.
import { useState } from "preact/hooks";
import type { ApiTokenInfo } from "../../../../src/auth/api-tokens.js";
import { del, post } from "../../api.js";
import { useApi } from "../../hooks.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, Field, ShownOnce } from "./common.js";
import { TOKEN_SCOPES, parseOptionalInt } from "./logic.js";

export function TokensPanel(props: { base: string; title: string; testId: string }) {
  const list = useApi<ApiTokenInfo[]>(props.base);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["runs:read"]);
  const [days, setDays] = useState("90");
  const [made, setMade] = useState<string | undefined>(undefined);
  const t = props.testId;
  const submit = async (): Promise<void> => {
    const d = parseOptionalInt(days, "days", 1, 366);
    if (!d.ok) throw new Error(d.error);
    if (scopes.length === 0) throw new Error("choose at least one scope");
    const r = await post<ApiTokenInfo & { token: string }>(props.base, {
      name: name.trim(),
      scopes,
      ...(d.value !== null ? { days: d.value } : {}),
    });
    setName("");
    setMade(r.token);
    list.reload();
  };
  const toggle = (s: string, on: boolean): void =>
    setScopes(on ? [...scopes.filter((x) => x !== s), s] : scopes.filter((x) => x !== s));
  return (
    <Section title={props.title}>
      {made && (
        <ShownOnce label="New token" value={made} testId={`${t}-new`} onDismiss={() => setMade(undefined)} />
      )}
      <ErrorLine error={list.error} />
      {list.data?.length === 0 && <p class="muted">No tokens.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid={`${t}-list`}>
            <thead>
              <tr>
                <th>Name</th>
                <th class="opt">Id</th>
                <th>Scopes</th>
                <th class="opt">Expires</th>
                <th class="opt">Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.map((k) => (
                <tr data-testid={`${t}-row`} data-name={k.name}>
                  <td>{k.name}</td>
                  <td class="opt mono">{k.publicId}</td>
                  <td>{k.scopes.join(" ")}</td>
                  <td class="opt">{k.expiresAt ? new Date(k.expiresAt).toLocaleDateString() : "never"}</td>
                  <td class="opt">
                    <Ago at={k.lastUsedAt} />
                  </td>
                  <td>
                    {k.revokedAt ? (
                      <span class="muted">revoked</span>
                    ) : (
                      <ActionButton
                        label="Revoke"
                        danger
                        testId={`${t}-revoke`}
                        confirm={`Revoke ${k.name}?`}
                        action={() => del(`${props.base}/${k.id}`)}
                        done={() => list.reload()}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ApiForm submit={submit} label="Create token" testId={`${t}-form`}>
        <Field label="Name" value={name} set={setName} testId={`${t}-name`} required />
        <fieldset class="checks">
          <legend>Scopes</legend>
          {TOKEN_SCOPES.map((s) => (
            <label>
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => toggle(s, e.currentTarget.checked)}
                data-testid={`${t}-scope-${s}`}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <Field label="Valid for (days; empty: no expiry)" value={days} set={setDays} />
      </ApiForm>
    </Section>
  );
}
