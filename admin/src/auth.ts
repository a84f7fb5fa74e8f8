/**
 * Who is signed in: a staff member (Cognito ID token from InitiateAuth USER_PASSWORD_AUTH: the password
 * goes to Cognito only) or an integration's admin API key typed in. Both travel as
 * `Authorization: Bearer <secret>`; roles.ts reads the staff token's groups to hide what the role cannot do.
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

/** A staff ID token from Cognito; its `exp` claim bounds how long it is kept. */
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

export interface CognitoConfig {
  endpoint?: string;
  region?: string;
  clientId: string;
}

/** InitiateAuth (USER_PASSWORD_AUTH) against the staff pool's app client; answers the ID token. */
export async function cognitoSignIn(cognito: CognitoConfig, email: string, password: string): Promise<string> {
  const endpoint = cognito.endpoint || `https://cognito-idp.${cognito.region}.amazonaws.com/`;
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: cognito.clientId,
        AuthParameters: { USERNAME: email.trim(), PASSWORD: password } }),
    });
  } catch {
    throw new Error(`The sign-in service at ${endpoint} cannot be reached.`);
  }
  const answer = (await response.json().catch(() => ({}))) as {
    message?: string; ChallengeName?: string; AuthenticationResult?: { IdToken: string };
  };
  if (!response.ok) throw new Error(answer.message || `Sign-in failed (${response.status}).`);
  if (!answer.AuthenticationResult) throw new Error(`Cognito asks for ${answer.ChallengeName ?? "a challenge"}.`);
  return answer.AuthenticationResult.IdToken;
}
