// /admin/authorizations (server administrators): which repository may use which pool (or pool
// group): requested, approved, revoked; approve, revoke, or grant one directly.
import { useState } from "preact/hooks";
import type { Repository } from "../../../../src/orchestrator/catalog/repositories.js";
import { post } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, useServerAdmin } from "./common.js";
import type { PoolView } from "./pools.js";

interface AuthorizationView {
  id: number;
  repositoryId: number;
  repository: string;
  pool: string | null;
  group: string | null;
  state: "requested" | "approved" | "revoked";
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
}

function Grant(props: { done: () => void }) {
  const repos = useApi<Repository[]>("/repositories");
  const pools = useApi<PoolView[]>("/pools");
  const [repo, setRepo] = useState("");
  const [pool, setPool] = useState("");
  const submit = async (): Promise<void> => {
    if (!repo || !pool) throw new Error("choose a repository and a pool");
    await post("/authorizations", { repository: Number(repo), pool });
    props.done();
  };
  return (
    <ApiForm submit={submit} label="Grant" testId="authorization-grant">
      <label>
        Repository
        <select value={repo} onChange={(e) => setRepo(e.currentTarget.value)}>
          <option value="">—</option>
          {repos.data?.map((r) => (
            <option value={String(r.id)}>{r.name}</option>
          ))}
        </select>
      </label>
      <label>
        Pool
        <select value={pool} onChange={(e) => setPool(e.currentTarget.value)}>
          <option value="">—</option>
          {pools.data?.map((p) => (
            <option value={p.name}>{p.name}</option>
          ))}
        </select>
      </label>
    </ApiForm>
  );
}

export function AuthorizationsPage() {
  useTitle("Pool authorizations");
  const admin = useServerAdmin();
  const [state, setState] = useState("");
  const list = useApi<AuthorizationView[]>(admin ? "/authorizations" : undefined, { state });
  const [granting, setGranting] = useState(false);
  if (!admin) return <p class="muted">Pool authorizations are decided by server administrators.</p>;
  return (
    <Section
      title="Pool authorizations"
      actions={
        <>
          <select
            value={state}
            onChange={(e) => setState(e.currentTarget.value)}
            data-testid="authorization-filter"
          >
            <option value="">all states</option>
            <option value="requested">requested</option>
            <option value="approved">approved</option>
            <option value="revoked">revoked</option>
          </select>
          <button type="button" onClick={() => setGranting(!granting)}>
            {granting ? "Close" : "Grant"}
          </button>
        </>
      }
    >
      {granting && (
        <Grant
          done={() => {
            setGranting(false);
            list.reload();
          }}
        />
      )}
      <ErrorLine error={list.error} />
      {list.data?.length === 0 && <p class="muted">None.</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table data-testid="authorization-list">
            <thead>
              <tr>
                <th>Repository</th>
                <th>Pool</th>
                <th>State</th>
                <th class="opt">Requested</th>
                <th class="opt">Decided</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.map((a) => (
                <tr data-testid="authorization-row" data-state={a.state} data-repository={a.repository}>
                  <td>
                    <a href={`/admin/repos/${a.repositoryId}`}>{a.repository}</a>
                  </td>
                  <td>{a.pool ?? `group ${a.group ?? ""}`}</td>
                  <td data-testid="authorization-state">{a.state}</td>
                  <td class="opt">
                    <Ago at={a.requestedAt} />
                  </td>
                  <td class="opt">
                    {a.decidedBy ?? "–"} {a.decidedAt && <Ago at={a.decidedAt} />}
                  </td>
                  <td>
                    <div class="row-actions">
                      {a.state !== "approved" && (
                        <ActionButton
                          label="Approve"
                          testId="authorization-approve"
                          action={() => post(`/authorizations/${a.id}/approve`)}
                          done={() => list.reload()}
                        />
                      )}
                      {a.state !== "revoked" && (
                        <ActionButton
                          label="Revoke"
                          danger
                          testId="authorization-revoke"
                          confirm="Revoke? Queued jobs of the repository stop being placed there."
                          action={() => post(`/authorizations/${a.id}/revoke`)}
                          done={() => list.reload()}
                        />
                      )}
                    </div>
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
