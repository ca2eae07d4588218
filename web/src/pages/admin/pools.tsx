// /admin/pools (server administrators): pools with trust tier, group, openness, deploy flag and
// node count; create, change group, mark a high-trust pool as a deploy pool (or not), delete.
import { useState } from "preact/hooks";
import { del, post, put } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, Field, useServerAdmin } from "./common.js";

export interface PoolView {
  id: number;
  name: string;
  trust: "low" | "high";
  group: string | null;
  open: boolean;
  /** A deploy pool: its jobs consume only artifacts the promotion gate allows (high trust only). */
  deploy: boolean;
  nodes: number;
  createdAt: string;
}

function GroupEditor(props: { pool: PoolView; done: () => void }) {
  const [group, setGroup] = useState(props.pool.group ?? "");
  return (
    <ApiForm
      testId="pool-group"
      label="Save group"
      submit={async () => {
        await put(`/pools/${encodeURIComponent(props.pool.name)}/group`, { group: group.trim() || null });
        props.done();
      }}
    >
      <Field label="Group (empty: none)" value={group} set={setGroup} />
    </ApiForm>
  );
}

export function PoolsPage() {
  useTitle("Pools");
  const admin = useServerAdmin();
  const pools = useApi<PoolView[]>(admin ? "/pools" : undefined);
  const [name, setName] = useState("");
  const [trust, setTrust] = useState("low");
  const [group, setGroup] = useState("");
  const [open, setOpen] = useState(false);
  const [deploy, setDeploy] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  if (!admin) return <p class="muted">Pools are managed by server administrators.</p>;
  const create = async (): Promise<void> => {
    await post("/pools", {
      name: name.trim(),
      trust,
      ...(group.trim() ? { group: group.trim() } : {}),
      open,
      ...(deploy && trust === "high" ? { deploy: true } : {}),
    });
    setName("");
    setGroup("");
    setOpen(false);
    setDeploy(false);
    pools.reload();
  };
  return (
    <Section title="Pools">
      <ErrorLine error={pools.error} />
      {pools.data && (
        <div class="table-wrap">
          <table data-testid="pool-list">
            <thead>
              <tr>
                <th>Pool</th>
                <th>Trust</th>
                <th class="opt">Group</th>
                <th>Open</th>
                <th>Deploy</th>
                <th>Nodes</th>
                <th class="opt">Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {pools.data.map((p) => (
                <>
                  <tr data-testid="pool-row" data-name={p.name} data-deploy={p.deploy ? "yes" : "no"}>
                    <td>{p.name}</td>
                    <td>{p.trust}</td>
                    <td class="opt">{p.group ?? "–"}</td>
                    <td>{p.open ? "every repository" : "authorized only"}</td>
                    <td>{p.deploy ? "deploy pool" : "–"}</td>
                    <td>{p.nodes}</td>
                    <td class="opt">
                      <Ago at={p.createdAt} />
                    </td>
                    <td>
                      <div class="row-actions">
                        <button
                          type="button"
                          onClick={() => setEditing(editing === p.name ? undefined : p.name)}
                        >
                          Group
                        </button>
                        {(p.deploy || p.trust === "high") && (
                          <ActionButton
                            label={p.deploy ? "Not a deploy pool" : "Make deploy pool"}
                            testId="pool-deploy"
                            action={() =>
                              put(`/pools/${encodeURIComponent(p.name)}/deploy`, { deploy: !p.deploy })
                            }
                            done={() => pools.reload()}
                          />
                        )}
                        <ActionButton
                          label="Delete"
                          danger
                          testId="pool-delete"
                          confirm={`Delete pool ${p.name}?`}
                          action={() => del(`/pools/${encodeURIComponent(p.name)}`)}
                          done={() => pools.reload()}
                        />
                      </div>
                    </td>
                  </tr>
                  {editing === p.name && (
                    <tr>
                      <td colSpan={8}>
                        <GroupEditor
                          pool={p}
                          done={() => {
                            setEditing(undefined);
                            pools.reload();
                          }}
                        />
                      </td>
                    </tr>
                  )}
                </>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>New pool</h3>
      <ApiForm submit={create} label="Create pool" testId="pool-add">
        <Field label="Name" value={name} set={setName} testId="pool-add-name" required />
        <label>
          Trust tier
          <select
            value={trust}
            onChange={(e) => setTrust(e.currentTarget.value)}
            data-testid="pool-add-trust"
          >
            <option value="low">low (untrusted code: forks, outside contributors)</option>
            <option value="high">high (trusted code only)</option>
          </select>
        </label>
        <Field label="Group (optional)" value={group} set={setGroup} />
        <label>
          <input type="checkbox" checked={open} onChange={(e) => setOpen(e.currentTarget.checked)} />
          Open to every repository without an authorization
        </label>
        {trust === "high" && (
          <label>
            <input type="checkbox" checked={deploy} onChange={(e) => setDeploy(e.currentTarget.checked)} />
            Deploy pool: its jobs consume only artifacts the promotion gate allows
          </label>
        )}
      </ApiForm>
    </Section>
  );
}
