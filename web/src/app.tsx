// The app shell: session gate, navigation and the routes. Every page is its own module under
// pages/; each is loaded lazily (code splitting), so the first load carries only the shell, the
// sign-in page and the runs list.
import { useEffect } from "preact/hooks";
import { ErrorBoundary, LocationProvider, Route, Router, lazy, useLocation } from "preact-iso";
import { whenSignedOut } from "./api.js";
import { logOut, refreshSession, signedOut, useSession } from "./session.js";
import { LoginPage } from "./pages/login.js";
import { RunsPage } from "./pages/runs.js";
import { NotFound } from "./components/ui.js";

const RunPage = lazy(() => import("./pages/run.js").then((m) => m.RunPage));
const JobPage = lazy(() => import("./pages/job.js").then((m) => m.JobPage));
const AdminRoutes = lazy(() => import("./pages/admin/index.js").then((m) => m.AdminRoutes));

whenSignedOut(signedOut);

/**
 * Links the router handles in the page: everything but the API and the badges (a single sign-on
 * start, a log download, an API link are real navigations to the server).
 */
const PAGE_LINKS = /^(?:https?:\/\/[^/]+)?\/(?!api\/|badge\/)/;

function Nav() {
  const session = useSession();
  const { path } = useLocation();
  if (session.kind !== "signed-in") return null;
  const here = (p: string): string => (path === p || path.startsWith(`${p}/`) ? "here" : "");
  return (
    <header class="top">
      <a class="brand" href="/runs">
        Airlock
      </a>
      <nav>
        <a href="/runs" class={here("/runs")}>
          Runs
        </a>
        <a href="/admin" class={here("/admin")}>
          Administration
        </a>
      </nav>
      <span class="who">
        <a href="/admin/account" class="user-name">
          {session.user.name}
        </a>
        <button type="button" class="link" onClick={() => void logOut()}>
          Sign out
        </button>
      </span>
    </header>
  );
}

function Routes() {
  const session = useSession();
  const { path } = useLocation();
  if (session.kind === "loading") return <p class="muted pad">Loading…</p>;
  if (session.kind !== "signed-in") return <LoginPage />;
  return (
    <main class={path.startsWith("/jobs/") ? "wide" : ""}>
      <ErrorBoundary>
        <Router>
          <Route path="/" component={RunsPage} />
          <Route path="/runs" component={RunsPage} />
          <Route path="/repos/:repo/runs" component={RunsPage} />
          <Route path="/runs/:id" component={RunPage} />
          <Route path="/jobs/:id" component={JobPage} />
          <Route path="/jobs/:id/logs" component={JobPage} />
          <Route path="/admin/*" component={AdminRoutes} />
          <Route path="/admin" component={AdminRoutes} />
          <Route default component={NotFound} />
        </Router>
      </ErrorBoundary>
    </main>
  );
}

export function App() {
  useEffect(() => {
    refreshSession().catch(() => signedOut());
  }, []);
  return (
    <LocationProvider scope={PAGE_LINKS}>
      <Nav />
      <Routes />
    </LocationProvider>
  );
}
