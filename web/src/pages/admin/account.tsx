// /admin/account: one's own account — change password, set up (or replace) TOTP with the
// recovery codes shown once, and personal API tokens (shown once).
import { useState } from "preact/hooks";
import { post, put, setCsrfToken } from "../../api.js";
import { useTitle } from "../../hooks.js";
import { refreshSession, useSession } from "../../session.js";
import { Section } from "../../components/ui.js";
import { ApiForm, Field, ShownOnce } from "./common.js";
import { TokensPanel } from "./tokens.js";

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const submit = async (): Promise<void> => {
    setDone(false);
    if (next !== again) throw new Error("the new passwords differ");
    await put("/me/password", { currentPassword: current, newPassword: next });
    setCurrent("");
    setNext("");
    setAgain("");
    setDone(true);
  };
  return (
    <Section title="Password">
      <ApiForm submit={submit} label="Change password" testId="password">
        <Field
          label="Current password"
          type="password"
          value={current}
          set={setCurrent}
          testId="password-current"
          autoComplete="current-password"
        />
        <Field
          label="New password"
          type="password"
          value={next}
          set={setNext}
          testId="password-new"
          autoComplete="new-password"
        />
        <Field
          label="New password again"
          type="password"
          value={again}
          set={setAgain}
          testId="password-again"
          autoComplete="new-password"
        />
      </ApiForm>
      {done && <p data-testid="password-done">Password changed.</p>}
    </Section>
  );
}

interface Enrolment {
  secret: string;
  uri: string;
}

function Totp(props: { mfa: boolean }) {
  const [current, setCurrent] = useState("");
  const [enrolment, setEnrolment] = useState<Enrolment | undefined>(undefined);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[] | undefined>(undefined);
  const begin = async (): Promise<void> => {
    const c = current.trim();
    const body = !props.mfa ? {} : /^\d{6,8}$/.test(c) ? { code: c } : { recoveryCode: c };
    setEnrolment(await post<Enrolment>("/auth/totp/begin", body));
    setCurrent("");
  };
  const confirm = async (): Promise<void> => {
    const r = await post<{ recoveryCodes: string[]; csrfToken: string }>("/auth/totp/confirm", {
      code: code.trim(),
    });
    // The server ended the old session and set a new cookie: use its CSRF token from now on.
    setCsrfToken(r.csrfToken);
    setCode("");
    setEnrolment(undefined);
    setCodes(r.recoveryCodes);
    await refreshSession();
  };
  return (
    <Section title="Second factor (TOTP)">
      {codes && (
        <ShownOnce
          label="Recovery codes (each works once if you lose your authenticator)"
          value={codes.join("  ")}
          testId="recovery-codes"
          onDismiss={() => setCodes(undefined)}
        />
      )}
      <p data-testid="totp-state">{props.mfa ? "TOTP is set up." : "No second factor yet."}</p>
      {!enrolment ? (
        <ApiForm submit={begin} label={props.mfa ? "Replace TOTP" : "Set up TOTP"} testId="totp-begin">
          {props.mfa && (
            <Field
              label="A current code or a recovery code"
              value={current}
              set={setCurrent}
              testId="totp-current"
              required
            />
          )}
        </ApiForm>
      ) : (
        <div data-testid="totp-enrolment">
          <p>
            Add this account to your authenticator app with the address below, or type the secret in by hand.
          </p>
          <p>
            Address:{" "}
            <code class="mono" data-testid="totp-uri">
              {enrolment.uri}
            </code>
          </p>
          <p>
            Secret:{" "}
            <code class="mono" data-testid="totp-secret">
              {enrolment.secret}
            </code>
          </p>
          <ApiForm submit={confirm} label="Confirm" testId="totp-confirm">
            <Field label="The app's current code" value={code} set={setCode} testId="totp-code" required />
          </ApiForm>
        </div>
      )}
    </Section>
  );
}

export function AccountPage() {
  useTitle("My account");
  const session = useSession();
  if (session.kind !== "signed-in") return null;
  return (
    <>
      <h1>My account: {session.user.name}</h1>
      <ChangePassword />
      <Totp mfa={session.user.mfa} />
      <TokensPanel base="/tokens" title="My API tokens" testId="my-tokens" />
    </>
  );
}
