// /admin/repos: the repositories the user may see, and adding one (server or organization
// administrators): the webhook URLs and secret are shown once, right after creation.
import { useState } from "preact/hooks";
import type { CreatedRepository, Repository } from "../../../../src/orchestrator/catalog/repositories.js";
import type { Organization } from "../../../../src/orchestrator/catalog/organizations.js";
import type { GrantView } from "../../../../src/auth/grants.js";
import { post } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { Ago, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, Field, ShownOnce, useServerAdmin } from "./common.js";
import { adminOrganizations, parseOptionalInt } from "./logic.js";

export type RepositoryView = Repository & { visibility?: string };

interface Me {
  kind: string;
  roles?: GrantView[];
}

export function WebhookUrls({ urls }: { urls: Record<string, string> }) {
  return (
    <table data-testid="webhook-urls">
      <tbody>
        {Object.entries(urls).map(([provider, url]) => (
          <tr>
            <th>{provider}</th>
            <td class="mono">{url}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AddRepository(props: { organizations: string[]; added: () => void }) {
  const [name, setName] = useState("");
  const [cloneUrl, setCloneUrl] = useState("");
  const [branch, setBranch] = useState("main");
  const [poll, setPoll] = useState("");
  const [org, setOrg] = useState(
    props.organizations.includes("default") ? "default" : (props.organizations[0] ?? ""),
  );
  const [created, setCreated] = useState<CreatedRepository | undefined>(undefined);
  if (created)
    return (
      <div data-testid="repo-created">
        <p>
          Added <a href={`/admin/repos/${created.id}`}>{created.name}</a>. Point your forge's webhook at one
          of these addresses:
        </p>
        <WebhookUrls urls={created.webhookUrls} />
        <ShownOnce
          label="Webhook secret"
          value={created.webhookSecret}
          testId="webhook-secret"
          onDismiss={() => setCreated(undefined)}
        />
      </div>
    );
  const submit = async (): Promise<void> => {
    const p = parseOptionalInt(poll, "poll interval", 10, 86400);
    if (!p.ok) throw new Error(p.error);
    const r = await post<CreatedRepository>("/repositories", {
      name: name.trim(),
      cloneUrl: cloneUrl.trim(),
      defaultBranch: branch.trim() || "main",
      ...(p.value !== null ? { pollIntervalSeconds: p.value } : {}),
      ...(org ? { organization: org } : {}),
    });
    setName("");
    setCloneUrl("");
    setPoll("");
    setCreated(r);
    props.added();
  };
  return (
    <ApiForm submit={submit} label="Add repository" testId="repo-add">
      <Field label="Name (owner/repo)" value={name} set={setName} testId="repo-add-name" required />
      <Field
        label="Clone URL"
        value={cloneUrl}
        set={setCloneUrl}
        testId="repo-add-url"
        placeholder="https://git.example.com/owner/repo.git"
        required
      />
      <Field label="Default branch" value={branch} set={setBranch} testId="repo-add-branch" />
      <Field label="Poll interval in seconds (empty: webhooks only)" value={poll} set={setPoll} />
      {props.organizations.length > 0 && (
        <label>
          Organization
          <select value={org} onChange={(e) => setOrg(e.currentTarget.value)} data-testid="repo-add-org">
            {props.organizations.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </label>
      )}
    </ApiForm>
  );
}

export function ReposPage() {
  useTitle("Repositories");
  const admin = useServerAdmin();
  const repos = useApi<RepositoryView[]>("/repositories");
  const me = useApi<Me>("/me");
  const orgs = useApi<Organization[]>(admin ? "/organizations" : undefined);
  const [adding, setAdding] = useState(false);
  const mayAdd = admin ? (orgs.data ?? []).map((o) => o.name) : adminOrganizations(me.data?.roles ?? []);
  return (
    <Section
      title="Repositories"
      actions={
        mayAdd.length > 0 && (
          <button type="button" onClick={() => setAdding(!adding)} data-testid="repo-add-open">
            {adding ? "Close" : "Add repository"}
          </button>
        )
      }
    >
      {adding && mayAdd.length > 0 && <AddRepository organizations={mayAdd} added={() => repos.reload()} />}
      <ErrorLine error={repos.error} />
      {repos.data && repos.data.length === 0 && <p class="muted">No repositories yet.</p>}
      {repos.data && repos.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="repo-list">
            <thead>
              <tr>
                <th>Name</th>
                <th class="opt">Default branch</th>
                <th class="opt">Visibility</th>
                <th class="opt">Added</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {repos.data.map((r) => (
                <tr key={r.id} data-testid="repo-row" data-name={r.name}>
                  <td>
                    <a href={`/admin/repos/${r.id}`}>{r.name}</a>
                  </td>
                  <td class="opt mono">{r.defaultBranch}</td>
                  <td class="opt">{r.visibility ?? "–"}</td>
                  <td class="opt">
                    <Ago at={r.createdAt} />
                  </td>
                  <td>
                    <a href={`/repos/${r.id}/runs`}>Runs</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
