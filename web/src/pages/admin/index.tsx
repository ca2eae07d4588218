// The administration pages under /admin: a sub-navigation showing only the pages the user may
// use (server administration pages for server administrators only) and a nested router.
import { Route, Router, useLocation } from "preact-iso";
import { NotFound } from "../../components/ui.js";
import { useServerAdmin } from "./common.js";
import { DashboardPage } from "./dashboard.js";
import { ReposPage } from "./repos.js";
import { RepoPage } from "./repo.js";
import { NodesPage } from "./nodes.js";
import { PoolsPage } from "./pools.js";
import { AuthorizationsPage } from "./authorizations.js";
import { OrgsPage, OrgPage } from "./orgs.js";
import { UsersPage } from "./users.js";
import { AuditPage } from "./audit.js";
import { AccountPage } from "./account.js";
import "./admin.css";

const PAGES: { path: string; label: string; serverOnly: boolean }[] = [
  { path: "/admin", label: "Dashboard", serverOnly: false },
  { path: "/admin/repos", label: "Repositories", serverOnly: false },
  { path: "/admin/orgs", label: "Organizations", serverOnly: false },
  { path: "/admin/nodes", label: "Nodes", serverOnly: true },
  { path: "/admin/pools", label: "Pools", serverOnly: true },
  { path: "/admin/authorizations", label: "Authorizations", serverOnly: true },
  { path: "/admin/users", label: "Users", serverOnly: true },
  { path: "/admin/audit", label: "Audit log", serverOnly: true },
  { path: "/admin/account", label: "My account", serverOnly: false },
];

function AdminNav() {
  const admin = useServerAdmin();
  const { path } = useLocation();
  const here = (p: string): boolean => (p === "/admin" ? path === p : path === p || path.startsWith(`${p}/`));
  return (
    <nav class="subnav" data-testid="admin-nav">
      {PAGES.filter((p) => admin || !p.serverOnly).map((p) => (
        <a href={p.path} class={here(p.path) ? "here" : ""} data-testid={`admin-nav-${p.label}`}>
          {p.label}
        </a>
      ))}
    </nav>
  );
}

export function AdminRoutes() {
  return (
    <div class="admin">
      <AdminNav />
      <Router>
        <Route path="/" component={DashboardPage} />
        <Route path="/repos" component={ReposPage} />
        <Route path="/repos/:id" component={RepoPage} />
        <Route path="/orgs" component={OrgsPage} />
        <Route path="/orgs/:name" component={OrgPage} />
        <Route path="/nodes" component={NodesPage} />
        <Route path="/pools" component={PoolsPage} />
        <Route path="/authorizations" component={AuthorizationsPage} />
        <Route path="/users" component={UsersPage} />
        <Route path="/audit" component={AuditPage} />
        <Route path="/account" component={AccountPage} />
        <Route default component={NotFound} />
      </Router>
    </div>
  );
}
