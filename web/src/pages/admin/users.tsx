// /admin/users (server administrators): users — create, disable/enable, make or unmake server
// administrator, reset password, remove the second factor, remove; and each one's roles.
import { useState } from "preact/hooks";
import type { UserView } from "./types.js";
import type { GrantView } from "../../../../src/auth/grants.js";
import { del, patch, post, put } from "../../api.js";
import { useApi, useTitle } from "../../hooks.js";
import { ActionButton, Ago, ErrorLine, Section } from "../../components/ui.js";
import type { Organization } from "../../../../src/orchestrator/catalog/organizations.js";
import type { Repository } from "../../../../src/orchestrator/catalog/repositories.js";
import { ApiForm, Field, ROLES, useServerAdmin } from "./common.js";

/** Where a role is granted: `org:NAME` or `repo:ID`, as the select's values. */
function grantPath(where: string, user: string): string {
  const u = encodeURIComponent(user);
  return where.startsWith("repo:")
    ? `/repositories/${where.slice(5)}/members/${u}`
    : `/organizations/${encodeURIComponent(where.slice(4))}/members/${u}`;
}

function UserDetail(props: { user: UserView }) {
  const u = props.user;
  const detail = useApi<UserView & { roles: GrantView[] }>(`/users/${u.id}`);
  const orgs = useApi<Organization[]>("/organizations");
  const repos = useApi<Repository[]>("/repositories");
  const [password, setPassword] = useState("");
  const [where, setWhere] = useState("");
  const [role, setRole] = useState("viewer");
  return (
    <div class="user-detail" data-testid="user-detail">
      <h3>Roles</h3>
      <ErrorLine error={detail.error} />
      {detail.data?.roles.length === 0 && <p class="muted">No roles.</p>}
      {detail.data?.roles.map((g) => (
        <p data-testid="user-role">
          {g.role} on {g.repository ? `repository ${g.repository}` : `organization ${g.organization}`}{" "}
          <ActionButton
            label="Remove"
            danger
            confirm="Remove this role?"
            action={() =>
              del(
                grantPath(
                  g.repositoryId !== null ? `repo:${g.repositoryId}` : `org:${g.organization}`,
                  u.name,
                ),
              )
            }
            done={() => detail.reload()}
          />
        </p>
      ))}
      <ApiForm
        testId="user-grant"
        label="Grant role"
        submit={async () => {
          if (!where) throw new Error("choose an organization or a repository");
          await put(grantPath(where, u.name), { role });
          detail.reload();
        }}
      >
        <label>
          On
          <select
            value={where}
            onChange={(e) => setWhere(e.currentTarget.value)}
            data-testid="user-grant-where"
          >
            <option value="">—</option>
            {orgs.data?.map((o) => (
              <option value={`org:${o.name}`}>organization {o.name} (all its repositories)</option>
            ))}
            {repos.data?.map((r) => (
              <option value={`repo:${r.id}`}>repository {r.name}</option>
            ))}
          </select>
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)} data-testid="user-grant-role">
            {ROLES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
      </ApiForm>
      {u.hasPassword && (
        <ApiForm
          testId="user-password"
          label="Set password"
          submit={async () => {
            await put(`/users/${u.id}/password`, { password });
            setPassword("");
          }}
        >
          <label>
            New password
            <input
              type="password"
              autoComplete="new-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              data-testid="user-password-value"
            />
          </label>
        </ApiForm>
      )}
    </div>
  );
}

function UserRow(props: { user: UserView; me: boolean; reload: () => void }) {
  const u = props.user;
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr data-testid="user-row" data-name={u.name}>
        <td>
          <strong>{u.name}</strong>
          <div class="muted">{u.displayName}</div>
        </td>
        <td class="opt">{u.email ?? "–"}</td>
        <td>
          {u.disabled ? "disabled" : "active"}
          {u.serverAdmin && <div>server admin</div>}
        </td>
        <td class="opt">{u.mfa ? "TOTP" : u.hasPassword ? "password only" : "single sign-on"}</td>
        <td class="opt">
          <Ago at={u.createdAt} />
        </td>
        <td>
          <div class="row-actions">
            <button type="button" onClick={() => setOpen(!open)} data-testid="user-open">
              {open ? "Close" : "More"}
            </button>
            {!props.me && (
              <ActionButton
                label={u.disabled ? "Enable" : "Disable"}
                testId="user-disable"
                {...(u.disabled
                  ? {}
                  : { confirm: `Disable ${u.name}? Their sessions and tokens stop working.` })}
                action={() => patch(`/users/${u.id}`, { disabled: !u.disabled })}
                done={props.reload}
              />
            )}
            {!props.me && (
              <ActionButton
                label={u.serverAdmin ? "Unmake admin" : "Make admin"}
                confirm={
                  u.serverAdmin
                    ? `Take server administration from ${u.name}?`
                    : `Make ${u.name} a server administrator?`
                }
                action={() => patch(`/users/${u.id}`, { serverAdmin: !u.serverAdmin })}
                done={props.reload}
              />
            )}
            {u.mfa && (
              <ActionButton
                label="Remove TOTP"
                danger
                testId="user-remove-totp"
                confirm={`Remove ${u.name}'s second factor?`}
                action={() => del(`/users/${u.id}/totp`)}
                done={props.reload}
              />
            )}
            {!props.me && (
              <ActionButton
                label="Remove"
                danger
                testId="user-remove"
                confirm={`Remove ${u.name}?`}
                action={() => del(`/users/${u.id}`)}
                done={props.reload}
              />
            )}
          </div>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6}>
            <UserDetail user={u} />
          </td>
        </tr>
      )}
    </>
  );
}

export function UsersPage() {
  useTitle("Users");
  const admin = useServerAdmin();
  const me = useApi<{ user?: UserView }>(admin ? "/me" : undefined);
  const users = useApi<UserView[]>(admin ? "/users" : undefined);
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [serverAdmin, setServerAdmin] = useState(false);
  if (!admin) return <p class="muted">Users are managed by server administrators.</p>;
  const create = async (): Promise<void> => {
    await post("/users", {
      name: name.trim(),
      ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      ...(password ? { password } : {}),
      serverAdmin,
    });
    setName("");
    setDisplayName("");
    setPassword("");
    setServerAdmin(false);
    users.reload();
  };
  return (
    <Section title="Users">
      <ErrorLine error={users.error} />
      {users.data && (
        <div class="table-wrap">
          <table data-testid="user-list">
            <thead>
              <tr>
                <th>User</th>
                <th class="opt">Email</th>
                <th>State</th>
                <th class="opt">Sign-in</th>
                <th class="opt">Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <UserRow key={u.id} user={u} me={me.data?.user?.id === u.id} reload={() => users.reload()} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>New user</h3>
      <ApiForm submit={create} label="Create user" testId="user-add">
        <Field label="User name" value={name} set={setName} testId="user-add-name" required />
        <Field label="Display name" value={displayName} set={setDisplayName} />
        <label>
          Password (empty: signs in through single sign-on only)
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            data-testid="user-add-password"
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={serverAdmin}
            onChange={(e) => setServerAdmin(e.currentTarget.checked)}
          />
          Server administrator
        </label>
      </ApiForm>
    </Section>
  );
}
