import { useState, type FormEvent } from "react";
import { appConfig, clientFor, problem } from "../api";
import { cognitoSignIn, signInWithApiKey, signInWithJwt, signOut, type Credential } from "../auth";
import { rolesOf } from "../roles";

/** `notice`: why the app signed the user out (the API refused their credential), shown until they sign in. */
export function SignIn({ onSignedIn, notice = "" }: { onSignedIn: (credential: Credential) => void; notice?: string }) {
  const cognito = appConfig()?.cognito;
  const [mode, setMode] = useState<"staff" | "key">(cognito?.clientId ? "staff" : "key");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      let credential: Credential;
      if (mode === "staff" && cognito) {
        credential = signInWithJwt(await cognitoSignIn(cognito, email, password));
        if (rolesOf(credential).length === 0) throw new Error("This account has no staff role.");
        // The dashboard's report proves the token to the API (every role may read it).
        await clientFor(credential).admin.salesReport({});
      } else {
        credential = signInWithApiKey(key);
        await clientFor(credential).admin.listOrders({ limit: 1 }); // proves the key before we keep it
      }
      onSignedIn(credential);
    } catch (caught) {
      signOut();
      setError(problem(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="signin">
      <h1>Back office</h1>
      {notice && <p role="status" className="notice" data-testid="signed-out">{notice}</p>}
      <form onSubmit={submit} aria-label={mode === "staff" ? "Staff sign-in" : "Sign in with an API key"}>
        {mode === "staff" ? (
          <>
            <label htmlFor="staff-email">Email</label>
            <input id="staff-email" type="email" autoComplete="username" required value={email}
                   onChange={(event) => setEmail(event.target.value)} />
            <label htmlFor="staff-password">Password</label>
            <input id="staff-password" type="password" autoComplete="current-password" required value={password}
                   onChange={(event) => setPassword(event.target.value)} />
            <p className="hint">Your staff account; the password goes to the sign-in service only.</p>
          </>
        ) : (
          <>
            <label htmlFor="admin-key">Admin API key</label>
            <input id="admin-key" type="password" autoComplete="current-password" required value={key}
                   onChange={(event) => setKey(event.target.value)} />
            <p className="hint">Kept for this browser tab only (sessionStorage).</p>
          </>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
        {cognito?.clientId && (
          <button type="button" className="link" onClick={() => { setMode(mode === "staff" ? "key" : "staff"); setError(""); }}>
            {mode === "staff" ? "Use an API key instead" : "Use a staff account instead"}
          </button>
        )}
      </form>
    </main>
  );
}
