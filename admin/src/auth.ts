/**
 * Who is signed in. Phase 1: an admin API key typed into the sign-in form. Staff Cognito sign-in
 * (phase 2) stores a bearer JWT the same way: both travel as `Authorization: Bearer <secret>`,
 * so nothing else in the app needs to know which kind it holds.
 * Kept in sessionStorage: gone when the tab closes, never in localStorage.
 */
export type Credential =
  | { kind: "api_key"; secret: string }
  | { kind: "jwt"; secret: string; expiresAt: number };

const KEY = "commerce.admin.credential";

export function currentCredential(): Credential | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const credential = JSON.parse(raw) as Credential;
    if (credential.kind === "jwt" && credential.expiresAt * 1000 <= Date.now()) {
      signOut();
      return null;
    }
    return credential;
  } catch {
    signOut();
    return null;
  }
}

export function signInWithApiKey(key: string): Credential {
  const credential: Credential = { kind: "api_key", secret: key.trim() };
  sessionStorage.setItem(KEY, JSON.stringify(credential));
  return credential;
}

/** For phase 2: a staff ID token from Cognito; its `exp` claim bounds how long it is kept. */
export function signInWithJwt(token: string): Credential {
  const payload = JSON.parse(atob(token.split(".")[1]?.replace(/-/g, "+").replace(/_/g, "/") ?? "")) as { exp: number };
  const credential: Credential = { kind: "jwt", secret: token, expiresAt: payload.exp };
  sessionStorage.setItem(KEY, JSON.stringify(credential));
  return credential;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

export function authorization(credential: Credential): string {
  return `Bearer ${credential.secret}`;
}
