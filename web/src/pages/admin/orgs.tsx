// /admin/orgs and /admin/orgs/:name: organizations (create and delete: server administrators),
// their concurrency limit, settings, members, secrets and variables, and service tokens.
import { useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import type { Organization } from "../../../../src/orchestrator/catalog/organizations.js";
import { del, post, put } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { Ago, ErrorLine, Section } from "../../components/ui.js";
import {
  ApiForm,
  Field,
  MembersPanel,
  SecretsPanel,
  TypedDelete,
  VariablesPanel,
  useCan,
  useServerAdmin,
} from "./common.js";
import { TokensPanel } from "./tokens.js";
import { parseOptionalInt } from "./logic.js";

export function OrgsPage() {
  useTitle("Organizations");
  const admin = useServerAdmin();
  const list = useApi<Organization[]>("/organizations");
  const [name, setName] = useState("");
  const [limit, setLimit] = useState("");
  const create = async (): Promise<void> => {
    const l = parseOptionalInt(limit, "job limit", 1, 10000);
    if (!l.ok) throw new Error(l.error);
    await post("/organizations", {
      name: name.trim(),
      ...(l.value !== null ? { maxConcurrentJobs: l.value } : {}),
    });
    setName("");
    setLimit("");
    list.reload();
  };
  return (
    <Section title="Organizations">
      <ErrorLine error={list.error} />
      {list.data && (
        <div class="table-wrap">
          <table data-testid="org-list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Job limit</th>
                <th class="opt">Second factor</th>
                <th class="opt">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((o) => (
                <tr data-testid="org-row" data-name={o.name}>
                  <td>
                    <a href={`/admin/orgs/${encodeURIComponent(o.name)}`}>{o.name}</a>
                  </td>
                  <td>{o.maxConcurrentJobs ?? "none"}</td>
                  <td class="opt">{o.requireMfa ? "required" : "optional"}</td>
                  <td class="opt">
                    <Ago at={o.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <>
          <h3>New organization</h3>
          <ApiForm submit={create} label="Create organization" testId="org-add">
            <Field label="Name" value={name} set={setName} testId="org-add-name" required />
            <Field label="Concurrent job limit (empty: none)" value={limit} set={setLimit} />
          </ApiForm>
        </>
      )}
    </Section>
  );
}

function OrgSettings(props: { org: Organization; admin: boolean; configure: boolean; reload: () => void }) {
  const o = props.org;
  const [limit, setLimit] = useState(o.maxConcurrentJobs === null ? "" : String(o.maxConcurrentJobs));
  const [mfa, setMfa] = useState(o.requireMfa);
  return (
    <Section title="Settings">
      <p>
        Concurrent job limit: {o.maxConcurrentJobs ?? "none"} · Second factor:{" "}
        {o.requireMfa ? "required for password users" : "optional"}
      </p>
      {props.admin && (
        <ApiForm
          testId="org-limit"
          label="Save limit"
          submit={async () => {
            const l = parseOptionalInt(limit, "job limit", 1, 10000);
            if (!l.ok) throw new Error(l.error);
            await put(`/organizations/${encodeURIComponent(o.name)}/limit`, { maxConcurrentJobs: l.value });
            props.reload();
          }}
        >
          <Field
            label="Concurrent job limit (empty: none)"
            value={limit}
            set={setLimit}
            testId="org-limit-value"
          />
        </ApiForm>
      )}
      {props.configure && (
        <ApiForm
          testId="org-settings"
          label="Save settings"
          submit={async () => {
            await put(`/organizations/${encodeURIComponent(o.name)}/settings`, { requireMfa: mfa });
            props.reload();
          }}
        >
          <label>
            <input type="checkbox" checked={mfa} onChange={(e) => setMfa(e.currentTarget.checked)} />
            Members who sign in with a password need a second factor
          </label>
        </ApiForm>
      )}
    </Section>
  );
}

export function OrgPage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const name = params.name ?? "";
  const admin = useServerAdmin();
  const org = useApi<Organization>(`/organizations/${encodeURIComponent(name)}`);
  const can = useCan({ organization: name });
  useTitle(name);
  if (org.error) return <ErrorLine error={org.error} />;
  if (!org.data) return <p class="muted">Loading…</p>;
  const base = `/organizations/${encodeURIComponent(name)}`;
  return (
    <div data-testid="org-page" data-permissions={can.ready ? "loaded" : "loading"}>
      <h1 data-testid="org-name">{org.data.name}</h1>
      <OrgSettings
        org={org.data}
        admin={admin}
        configure={can("organization.configure")}
        reload={() => org.reload()}
      />
      {can("organization.members.read") && (
        <MembersPanel base={base} canWrite={can("organization.members.write")} testId="org-members" />
      )}
      {can("organization.secrets.read") && (
        <SecretsPanel base={base} canWrite={can("organization.secrets.write")} testId="org-secrets" />
      )}
      {can("organization.variables.read") && (
        <VariablesPanel base={base} canWrite={can("organization.variables.write")} testId="org-variables" />
      )}
      {can("organization.tokens") && (
        <TokensPanel base={`${base}/tokens`} title="Service tokens" testId="org-tokens" />
      )}
      {admin && (
        <Section title="Remove">
          <TypedDelete
            name={org.data.name}
            what="organization"
            testId="org-delete"
            action={() => del(base)}
            done={() => route("/admin/orgs")}
          />
        </Section>
      )}
    </div>
  );
}
