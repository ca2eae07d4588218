// /admin/nodes (server administrators): nodes with state and capacity, their labels, images and
// pool; disable/enable (drain), revoke, remove, edit labels, move to a pool, worker trust and
// operator; registration tokens
// (shown once); the image and flavour catalog.
import { useState } from "preact/hooks";
import type { ListedNode } from "../../../../src/orchestrator/catalog/nodes.js";
import type { Flavour, Image } from "../../../../src/orchestrator/catalog/images.js";
import type { NewNodeRegistration, NodeRegistration } from "./types.js";
import { del, post, put } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import { ApiForm, Field, ShownOnce, useServerAdmin } from "./common.js";
import { formatMb, nodeState, parseList, parseOptionalInt } from "./logic.js";

interface PoolName {
  name: string;
  trust: string;
}

function NodeEditor(props: { node: ListedNode; pools: PoolName[]; done: () => void }) {
  const n = props.node;
  const [labels, setLabels] = useState(n.labels.join(", "));
  const [required, setRequired] = useState(n.requiredLabels.join(", "));
  const [pool, setPool] = useState(n.pool);
  const [workerTrust, setWorkerTrust] = useState<string>(n.workerTrust);
  const [operator, setOperator] = useState(n.operator ?? "");
  return (
    <div>
      <ApiForm
        testId="node-labels"
        label="Save labels"
        submit={async () => {
          await put(`/nodes/${n.id}/labels`, {
            labels: parseList(labels),
            requiredLabels: parseList(required),
          });
          props.done();
        }}
      >
        <Field label="Labels" value={labels} set={setLabels} testId="node-labels-text" />
        <Field label="Required labels (only jobs asking for them)" value={required} set={setRequired} />
      </ApiForm>
      <ApiForm
        testId="node-pool"
        label="Move to pool"
        submit={async () => {
          await put(`/nodes/${n.id}/pool`, { pool });
          props.done();
        }}
      >
        <label>
          Pool
          <select
            value={pool}
            onChange={(e) => setPool(e.currentTarget.value)}
            data-testid="node-pool-select"
          >
            {props.pools.map((p) => (
              <option value={p.name}>
                {p.name} ({p.trust} trust)
              </option>
            ))}
          </select>
        </label>
      </ApiForm>
      <ApiForm
        testId="node-worker"
        label="Save worker trust"
        submit={async () => {
          await put(`/nodes/${n.id}/worker`, {
            workerTrust,
            operator: operator.trim() === "" ? null : operator.trim(),
          });
          props.done();
        }}
      >
        <label>
          Worker
          <select
            value={workerTrust}
            onChange={(e) => setWorkerTrust(e.currentTarget.value)}
            data-testid="node-worker-trust"
          >
            <option value="trusted">trusted (this installation's own)</option>
            <option value="untrusted">untrusted (a third party's)</option>
          </select>
        </label>
        <Field label="Operator (empty: this installation)" value={operator} set={setOperator} />
      </ApiForm>
    </div>
  );
}

function NodeRow(props: {
  node: ListedNode;
  pools: PoolName[];
  trust: string | undefined;
  reload: () => void;
}) {
  const n = props.node;
  const [editing, setEditing] = useState(false);
  const [credential, setCredential] = useState<string | undefined>(undefined);
  const state = nodeState(n);
  return (
    <>
      <tr data-testid="node-row" data-name={n.name} data-state={state}>
        <td>
          <strong>{n.name}</strong>
          <div class="muted">
            seen <Ago at={n.lastSeenAt} />
          </div>
        </td>
        <td>
          <span class={`status status-${state}`}>{state}</span>
          {n.taintedAt && <div class="muted">tainted (ran low-trust jobs)</div>}
        </td>
        <td>
          {n.running} running
          <div class="muted">
            {n.cpus} CPU · {formatMb(n.memoryMb)} · {formatMb(n.diskMb)} disk
          </div>
        </td>
        <td class="opt">
          <span class="chips">
            {n.labels.map((l) => (
              <span>{l}</span>
            ))}
            {n.requiredLabels.map((l) => (
              <span title="required">{l}!</span>
            ))}
          </span>
        </td>
        <td class="opt mono">
          {n.images.join(", ") || "–"}
          {Object.entries(n.provisionerInfo ?? {}).map(([name, line]) => (
            <div class="muted">
              {name}: {line}
            </div>
          ))}
        </td>
        <td>
          {n.pool}
          <div class="muted">{props.trust ? `${props.trust} trust` : ""}</div>
          <div class="muted" data-testid="node-worker">
            {n.workerTrust} worker{n.operator !== null ? ` · operator ${n.operator}` : ""}
          </div>
        </td>
        <td>
          <div class="row-actions">
            {!n.revokedAt &&
              (n.enabled ? (
                <ActionButton
                  label="Disable"
                  testId="node-disable"
                  confirm="No new jobs; running ones finish."
                  action={() => post(`/nodes/${n.id}/disable`)}
                  done={props.reload}
                />
              ) : (
                <ActionButton
                  label="Enable"
                  testId="node-enable"
                  action={() => post(`/nodes/${n.id}/enable`)}
                  done={props.reload}
                />
              ))}
            {!n.revokedAt && (
              <button type="button" onClick={() => setEditing(!editing)} data-testid="node-edit">
                {editing ? "Close" : "Labels / pool / worker"}
              </button>
            )}
            {!n.revokedAt && (
              <ActionButton
                label="Revoke"
                danger
                testId="node-revoke"
                confirm={`Revoke ${n.name}? Its credential dies; it must be registered again.`}
                action={() => post(`/nodes/${n.id}/revoke`)}
                done={props.reload}
              />
            )}
            {!n.revokedAt && (
              <ActionButton
                label="New credential"
                testId="node-credential"
                confirm={`Give ${n.name} a new credential? Its current one stops working at once.`}
                action={async () =>
                  setCredential((await post<{ credential: string }>(`/nodes/${n.id}/credential`)).credential)
                }
              />
            )}
            <ActionButton
              label="Remove"
              danger
              testId="node-remove"
              confirm={`Remove ${n.name}?`}
              action={() => del(`/nodes/${n.id}`)}
              done={props.reload}
            />
          </div>
        </td>
      </tr>
      {credential && (
        <tr>
          <td colSpan={7}>
            <ShownOnce
              label={`New credential of ${n.name} (its agent's credential file)`}
              value={credential}
              testId="node-credential-new"
              onDismiss={() => setCredential(undefined)}
            />
          </td>
        </tr>
      )}
      {editing && (
        <tr>
          <td colSpan={7}>
            <NodeEditor
              node={n}
              pools={props.pools}
              done={() => {
                setEditing(false);
                props.reload();
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

function Registrations(props: { pools: PoolName[] }) {
  const list = useApi<NodeRegistration[]>("/nodes/registrations");
  const [name, setName] = useState("");
  const [labels, setLabels] = useState("");
  const [pool, setPool] = useState("");
  const [minutes, setMinutes] = useState("60");
  const [made, setMade] = useState<NewNodeRegistration | undefined>(undefined);
  const submit = async (): Promise<void> => {
    const m = parseOptionalInt(minutes, "valid for", 1, 7 * 24 * 60);
    if (!m.ok) throw new Error(m.error);
    const r = await post<NewNodeRegistration>("/nodes/registrations", {
      name: name.trim(),
      labels: parseList(labels),
      ...(pool ? { pool } : {}),
      ...(m.value !== null ? { expiresInMinutes: m.value } : {}),
    });
    setName("");
    setLabels("");
    setMade(r);
    list.reload();
  };
  return (
    <Section title="Registration tokens">
      {made && (
        <ShownOnce
          label={`Registration token for ${made.name}`}
          value={made.token}
          testId="registration-token"
          onDismiss={() => setMade(undefined)}
        />
      )}
      <ErrorLine error={list.error} />
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Node</th>
                <th>State</th>
                <th class="opt">Pool</th>
                <th class="opt">Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.map((r) => (
                <tr data-testid="registration-row">
                  <td>{r.name}</td>
                  <td>{r.state}</td>
                  <td class="opt">{r.pool}</td>
                  <td class="opt">
                    <Ago at={r.expiresAt} />
                  </td>
                  <td>
                    {r.state === "pending" && (
                      <ActionButton
                        label="Revoke"
                        danger
                        confirm="Revoke this token?"
                        action={() => del(`/nodes/registrations/${r.id}`)}
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
      <ApiForm submit={submit} label="New registration token" testId="registration">
        <Field label="Node name" value={name} set={setName} testId="registration-name" required />
        <Field label="Labels" value={labels} set={setLabels} />
        <label>
          Pool
          <select value={pool} onChange={(e) => setPool(e.currentTarget.value)}>
            <option value="">default</option>
            {props.pools.map((p) => (
              <option value={p.name}>{p.name}</option>
            ))}
          </select>
        </label>
        <Field label="Valid for (minutes)" value={minutes} set={setMinutes} />
      </ApiForm>
    </Section>
  );
}

function Catalog() {
  const images = useApi<Image[]>("/images");
  const flavours = useApi<Flavour[]>("/flavours");
  return (
    <Section title="Images and flavours">
      <ErrorLine error={images.error ?? flavours.error} />
      <h3>Images</h3>
      {images.data?.length === 0 && <p class="muted">None.</p>}
      <ul>
        {images.data?.map((i) => (
          <li>
            <span class="mono">{i.name}</span> ({i.provisioner}) {i.labels.join(", ")}
          </li>
        ))}
      </ul>
      <h3>Flavours</h3>
      {flavours.data?.length === 0 && <p class="muted">None.</p>}
      <ul>
        {flavours.data?.map((f) => (
          <li>
            <span class="mono">{f.name}</span>: {f.cpus} CPU, {formatMb(f.memoryMb)}, {formatMb(f.diskMb)}{" "}
            disk
          </li>
        ))}
      </ul>
    </Section>
  );
}

export function NodesPage() {
  useTitle("Nodes");
  const admin = useServerAdmin();
  const nodes = useApi<ListedNode[]>(admin ? "/nodes" : undefined, undefined, {
    pollMs: 5000,
    live: () => true,
  });
  const pools = useApi<PoolName[]>(admin ? "/pools" : undefined);
  if (!admin) return <p class="muted">Nodes are managed by server administrators.</p>;
  const trustOf = (name: string): string | undefined => pools.data?.find((p) => p.name === name)?.trust;
  return (
    <>
      <Section title="Nodes">
        <ErrorLine error={nodes.error} />
        {nodes.data?.length === 0 && <p class="muted">No nodes yet: make a registration token below.</p>}
        {nodes.data && nodes.data.length > 0 && (
          <div class="table-wrap">
            <table data-testid="node-list">
              <thead>
                <tr>
                  <th>Node</th>
                  <th>State</th>
                  <th>Capacity</th>
                  <th class="opt">Labels</th>
                  <th class="opt">Images</th>
                  <th>Pool</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {nodes.data.map((n) => (
                  <NodeRow
                    key={n.id}
                    node={n}
                    pools={pools.data ?? []}
                    trust={trustOf(n.pool)}
                    reload={() => nodes.reload()}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Registrations pools={pools.data ?? []} />
      <Catalog />
    </>
  );
}
