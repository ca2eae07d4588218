// /admin/repos/:id: one repository — its settings (edit, remove with a typed confirmation), its
// secrets and variables (write-only secrets), environments, members, egress allow-list, forge,
// job-source credentials and pool authorizations; each part only for those who may see it.
import { useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import type { RepositoryForge } from "../../../../src/orchestrator/catalog/forge.js";
import { del, patch, put } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { Ago, ErrorLine, NotFound, Section } from "../../components/ui.js";
import { ActionButton } from "../../components/ui.js";
import {
  ApiForm,
  Field,
  MembersPanel,
  SecretsPanel,
  TypedDelete,
  VariablesPanel,
  useCan,
  type Can,
} from "./common.js";
import { EnvironmentsPanel } from "./environments.js";
import { WebhookUrls, type RepositoryView } from "./repos.js";
import { parseList, repoFormOf, repoPatch, type RepoForm } from "./logic.js";

function EditRepository(props: { repo: RepositoryView; saved: () => void }) {
  const [form, setForm] = useState<RepoForm>(repoFormOf(props.repo));
  const set = (k: keyof RepoForm) => (v: string) => setForm({ ...form, [k]: v });
  const submit = async (): Promise<void> => {
    const p = repoPatch(props.repo, form);
    if (!p.ok) throw new Error(p.error);
    await patch(`/repositories/${props.repo.id}`, p.value);
    props.saved();
  };
  return (
    <ApiForm submit={submit} label="Save" testId="repo-edit">
      <Field label="Clone URL" value={form.cloneUrl} set={set("cloneUrl")} testId="repo-edit-url" />
      <Field
        label="Default branch"
        value={form.defaultBranch}
        set={set("defaultBranch")}
        testId="repo-edit-branch"
      />
      <Field
        label="Poll interval in seconds (empty: no polling)"
        value={form.pollIntervalSeconds}
        set={set("pollIntervalSeconds")}
        testId="repo-edit-poll"
      />
      <Field label="Job limit (empty: none)" value={form.maxConcurrentJobs} set={set("maxConcurrentJobs")} />
      {props.repo.visibility !== undefined && (
        <label>
          Visibility
          <select
            value={form.visibility}
            onChange={(e) => set("visibility")(e.currentTarget.value)}
            data-testid="repo-edit-visibility"
          >
            <option value="private">private</option>
            <option value="public">public</option>
          </select>
        </label>
      )}
    </ApiForm>
  );
}

function Settings(props: { repo: RepositoryView; can: Can; reload: () => void }) {
  const r = props.repo;
  const [editing, setEditing] = useState(false);
  return (
    <Section
      title="Settings"
      actions={
        props.can("repository.edit") && (
          <button type="button" onClick={() => setEditing(!editing)} data-testid="repo-edit-open">
            {editing ? "Close" : "Edit"}
          </button>
        )
      }
    >
      {editing ? (
        <EditRepository
          repo={r}
          saved={() => {
            setEditing(false);
            props.reload();
          }}
        />
      ) : (
        <table data-testid="repo-settings">
          <tbody>
            <tr>
              <th>Clone URL</th>
              <td class="mono">{r.cloneUrl}</td>
            </tr>
            <tr>
              <th>Default branch</th>
              <td class="mono">{r.defaultBranch}</td>
            </tr>
            <tr>
              <th>Polling</th>
              <td>
                {r.pollIntervalSeconds === null ? "off (webhooks)" : `every ${r.pollIntervalSeconds} s`}
              </td>
            </tr>
            <tr>
              <th>Job limit</th>
              <td>{r.maxConcurrentJobs ?? "none"}</td>
            </tr>
            {r.visibility !== undefined && (
              <tr>
                <th>Visibility</th>
                <td data-testid="repo-visibility">{r.visibility}</td>
              </tr>
            )}
            <tr>
              <th>Added</th>
              <td>
                <Ago at={r.createdAt} />
              </td>
            </tr>
          </tbody>
        </table>
      )}
      <h3>Webhook addresses</h3>
      <p class="muted">The webhook secret was shown once when the repository was added.</p>
      <WebhookUrls urls={r.webhookUrls} />
    </Section>
  );
}

function Egress(props: { repo: RepositoryView; can: Can; reload: () => void }) {
  const [text, setText] = useState(props.repo.egressAllow.join("\n"));
  const submit = async (): Promise<void> => {
    await put(`/repositories/${props.repo.id}/egress`, { allow: parseList(text) });
    props.reload();
  };
  return (
    <Section title="Egress allow-list">
      <p class="muted">Destinations this repository's jobs may reach through the node's egress proxy.</p>
      {props.can("repository.configure") ? (
        <ApiForm submit={submit} label="Save allow-list" testId="egress">
          <label>
            One host (or host:port, *.domain) a line
            <textarea
              rows={4}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
              data-testid="egress-text"
            />
          </label>
        </ApiForm>
      ) : props.repo.egressAllow.length ? (
        <ul>
          {props.repo.egressAllow.map((e) => (
            <li class="mono">{e}</li>
          ))}
        </ul>
      ) : (
        <p class="muted">Nothing beyond the node's own list.</p>
      )}
    </Section>
  );
}

function Forge(props: { repo: number; can: Can }) {
  const f = useApi<RepositoryForge>(`/repositories/${props.repo}/forge`);
  const [kind, setKind] = useState<string | undefined>(undefined);
  const [apiUrl, setApiUrl] = useState<string | undefined>(undefined);
  const submit = async (): Promise<void> => {
    await put(`/repositories/${props.repo}/forge`, {
      kind: (kind ?? f.data?.kind ?? "") || null,
      apiUrl: (apiUrl ?? f.data?.apiUrl ?? "").trim() || null,
    });
    f.reload();
  };
  return (
    <Section title="Forge (commit statuses)">
      <ErrorLine error={f.error} />
      {f.data && (
        <>
          <p>
            {f.data.resolved ? (
              <>
                Statuses go to {f.data.resolved.kind} at <span class="mono">{f.data.resolved.apiUrl}</span>
                {f.data.forgeToken ? "." : " once a forge token is set."}
              </>
            ) : (
              <span class="muted">{f.data.problem ?? "No forge."}</span>
            )}
          </p>
          {props.can("repository.configure") && (
            <ApiForm submit={submit} label="Save forge" testId="forge">
              <label>
                Kind
                <select value={kind ?? f.data.kind ?? ""} onChange={(e) => setKind(e.currentTarget.value)}>
                  <option value="">inferred</option>
                  {["github", "gitlab", "gitea", "bitbucket"].map((k) => (
                    <option value={k}>{k}</option>
                  ))}
                </select>
              </label>
              <Field
                label="API URL (empty: inferred)"
                value={apiUrl ?? f.data.apiUrl ?? ""}
                set={setApiUrl}
              />
            </ApiForm>
          )}
        </>
      )}
    </Section>
  );
}

interface CredentialInfo {
  kind: string;
  setAt: string;
  setBy: string | null;
}

/** The kinds an operator sets (the webhook secret is Airlock's own, made with the repository). */
const SETTABLE = ["clone-password", "deploy-key", "forge-token"];

/** Job-source credentials (clone password, deploy key, forge token): write-only like secrets. */
function Credentials(props: { repo: number; can: Can }) {
  const list = useApi<CredentialInfo[]>(`/repositories/${props.repo}/credentials`);
  const [kind, setKind] = useState("forge-token");
  const [value, setValue] = useState("");
  const [username, setUsername] = useState("");
  const submit = async (): Promise<void> => {
    await put(`/repositories/${props.repo}/credentials/${kind}`, {
      value,
      ...(kind === "clone-password" && username.trim() ? { username: username.trim() } : {}),
    });
    setValue("");
    list.reload();
  };
  return (
    <Section title="Source credentials">
      <p class="muted">Write-only: which are set and when, never their values.</p>
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">None set.</p>}
      {list.data?.map((c) => (
        <p data-testid="credential-row">
          <span class="mono">{c.kind}</span> set <Ago at={c.setAt} />
          {c.setBy && <> by {c.setBy}</>}{" "}
          {props.can("secrets.write") && SETTABLE.includes(c.kind) && (
            <ActionButton
              label="Delete"
              danger
              confirm={`Delete the ${c.kind}?`}
              action={() => del(`/repositories/${props.repo}/credentials/${c.kind}`)}
              done={() => list.reload()}
            />
          )}
        </p>
      ))}
      {props.can("secrets.write") && (
        <ApiForm submit={submit} label="Save credential" testId="credential">
          <label>
            Kind
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              <option value="forge-token">forge token</option>
              <option value="clone-password">clone password</option>
              <option value="deploy-key">deploy key (private key)</option>
            </select>
          </label>
          {kind === "clone-password" && (
            <Field label="User name (default x-access-token)" value={username} set={setUsername} />
          )}
          <label>
            Value
            {kind === "deploy-key" ? (
              <textarea
                rows={4}
                autoComplete="off"
                value={value}
                onInput={(e) => setValue(e.currentTarget.value)}
              />
            ) : (
              <input
                type="password"
                autoComplete="off"
                value={value}
                onInput={(e) => setValue(e.currentTarget.value)}
              />
            )}
          </label>
        </ApiForm>
      )}
    </Section>
  );
}

interface AuthorizationRow {
  id: number;
  pool: string | null;
  group: string | null;
  state: string;
  requestedAt: string;
  decidedBy: string | null;
}

function RepoAuthorizations(props: { repo: number }) {
  const list = useApi<AuthorizationRow[]>(`/repositories/${props.repo}/authorizations`);
  return (
    <Section title="Pool authorizations">
      <ErrorLine error={list.error} />
      {list.data && list.data.length === 0 && <p class="muted">None: jobs run only in open pools.</p>}
      {list.data?.map((a) => (
        <p>
          {a.pool ? `pool ${a.pool}` : `group ${a.group ?? ""}`}: {a.state}
          {a.decidedBy && <> by {a.decidedBy}</>} (requested <Ago at={a.requestedAt} />)
        </p>
      ))}
    </Section>
  );
}

export function RepoPage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = Number(params.id);
  const ok = Number.isSafeInteger(id) && id > 0;
  const repo = useApi<RepositoryView>(ok ? `/repositories/${id}` : undefined);
  const can = useCan(ok ? { repository: id } : undefined);
  useTitle(repo.data?.name ?? "Repository");
  if (!ok) return <NotFound />;
  if (repo.error) return <ErrorLine error={repo.error} />;
  if (!repo.data) return <p class="muted">Loading…</p>;
  const r = repo.data;
  return (
    <div data-testid="repo-page" data-permissions={can.ready ? "loaded" : "loading"}>
      <div class="card-head">
        <h1 data-testid="repo-name">{r.name}</h1>
        <div class="card-actions">
          <a class="button" href={`/repos/${r.id}/runs`}>
            Runs
          </a>
        </div>
      </div>
      <Settings repo={r} can={can} reload={() => repo.reload()} />
      {can("secrets.read") && <SecretsPanel base={`/repositories/${r.id}`} canWrite={can("secrets.write")} />}
      {can("variables.read") && (
        <VariablesPanel base={`/repositories/${r.id}`} canWrite={can("variables.write")} />
      )}
      {can("environments.read") && <EnvironmentsPanel repo={r.id} can={can} />}
      {can("repository.members.read") && (
        <MembersPanel base={`/repositories/${r.id}`} canWrite={can("repository.members.write")} />
      )}
      <Egress repo={r} can={can} reload={() => repo.reload()} />
      <Forge repo={r.id} can={can} />
      {can("secrets.read") && <Credentials repo={r.id} can={can} />}
      {can("repository.authorizations.read") && <RepoAuthorizations repo={r.id} />}
      {can("repository.delete") && (
        <Section title="Remove">
          <TypedDelete
            name={r.name}
            what="repository"
            testId="repo-delete"
            action={() => del(`/repositories/${r.id}`)}
            done={() => route("/admin/repos")}
          />
        </Section>
      )}
    </div>
  );
}
