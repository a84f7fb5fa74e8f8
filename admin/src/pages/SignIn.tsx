import { useState, type FormEvent } from "react";
import { clientFor, problem } from "../api";
import { signInWithApiKey, signOut, type Credential } from "../auth";

export function SignIn({ onSignedIn }: { onSignedIn: (credential: Credential) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError("");
    const credential = signInWithApiKey(key);
    try {
      await clientFor(credential).admin.listOrders({ limit: 1 }); // proves the key before we keep it
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
      <form onSubmit={submit}>
        <label htmlFor="admin-key">Admin API key</label>
        <input id="admin-key" type="password" autoComplete="current-password" required value={key}
               onChange={(event) => setKey(event.target.value)} />
        <p className="hint">Kept for this browser tab only (sessionStorage).</p>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}
