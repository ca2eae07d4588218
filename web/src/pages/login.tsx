// Sign-in: password (+ TOTP or a recovery code when the account has a second factor), and the
// single sign-on providers the server offers (OpenID Connect, forge OAuth), which come back to
// the page the user was on.
import { useEffect, useState } from "preact/hooks";
import { get, messageOf } from "../api.js";
import { logIn, logOut, secondFactor, useSession } from "../session.js";
import { ErrorLine } from "../components/ui.js";

interface Providers {
  passwordLogin: boolean;
  providers: Array<{ id: string; name: string; kind: string; startUrl: string }>;
}

function SecondFactorForm() {
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await secondFactor(recovery ? { recoveryCode: code.trim() } : { code: code.trim() });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card login" onSubmit={(e) => void submit(e)}>
      <h1>Second factor</h1>
      <label>
        {recovery ? "Recovery code" : "Code from your authenticator app"}
        <input
          name="code"
          autoComplete="one-time-code"
          inputMode={recovery ? "text" : "numeric"}
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
          autoFocus
          required
        />
      </label>
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        Verify
      </button>
      <p>
        <button type="button" class="link" onClick={() => setRecovery(!recovery)}>
          {recovery ? "Use an authenticator code" : "Use a recovery code"}
        </button>{" "}
        ·{" "}
        <button type="button" class="link" onClick={() => void logOut()}>
          Start over
        </button>
      </p>
    </form>
  );
}

export function LoginPage() {
  const session = useSession();
  const [providers, setProviders] = useState<Providers | undefined>(undefined);
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = "Sign in · Airlock";
    get<Providers>("/auth/providers").then(setProviders, (err) => setError(messageOf(err)));
  }, []);
  if (session.kind === "second-factor") return <SecondFactorForm />;
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await logIn(user, password);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const back = location.pathname + location.search + location.hash;
  return (
    <div class="card login">
      <h1>Sign in to Airlock</h1>
      {providers?.passwordLogin !== false && (
        <form onSubmit={(e) => void submit(e)}>
          <label>
            User name
            <input
              name="user"
              autoComplete="username"
              value={user}
              onInput={(e) => setUser(e.currentTarget.value)}
              required
            />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
            />
          </label>
          <ErrorLine error={error} />
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      )}
      {providers && providers.providers.length > 0 && (
        <div class="sso">
          {providers.providers.map((p) => (
            <a
              class="button"
              href={`${p.startUrl}?return=${encodeURIComponent(back === "/" ? "/runs" : back)}`}
            >
              Sign in with {p.name}
            </a>
          ))}
        </div>
      )}
    </div>
  );
}
