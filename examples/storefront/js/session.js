// The signed-in customer: Cognito's tokens in sessionStorage (gone when the tab closes). Sign-in calls
// Cognito's InitiateAuth (USER_PASSWORD_AUTH) from the browser, as the Cognito SDK does: the password goes
// to Cognito only, never to the shop's API, which gets the ID token as `Authorization: Bearer`.
import config from "../config.js";

const SESSION_KEY = "commerce.session";
const cognito = config.cognito || {};
const ENDPOINT = cognito.endpoint || (cognito.region ? `https://cognito-idp.${cognito.region}.amazonaws.com/` : "");

/** A Cognito answer that is not a 2xx: `code` is Cognito's exception name (NotAuthorizedException...). */
export class SignInError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SignInError";
    this.code = code;
  }
}

export const signInAvailable = () => Boolean(ENDPOINT && cognito.clientId);

function claims(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

/** {idToken, email, expiresAt} while the ID token is valid, else null. */
export function currentSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.expiresAt > Date.now() + 30_000) return saved;
  } catch {
    // a damaged entry is no session
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

export const idToken = () => currentSession()?.idToken || null;

export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** InitiateAuth with the email and password; stores and answers the session, or throws a SignInError. */
export async function signIn(email, password) {
  if (!signInAvailable()) throw new SignInError("sign_in_unavailable", "This shop has no customer sign-in configured.");
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: cognito.clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    });
  } catch {
    throw new SignInError("network_error", `The sign-in service at ${ENDPOINT} cannot be reached.`);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(answer.__type || `http_${response.status}`).split("#").pop();
    throw new SignInError(code, answer.message || `Sign-in failed (${response.status}).`);
  }
  const result = answer.AuthenticationResult;
  if (!result) {
    // NEW_PASSWORD_REQUIRED, MFA...: the demo pool's customers have none of these.
    throw new SignInError(answer.ChallengeName || "challenge", `Cognito asks for ${answer.ChallengeName}.`);
  }
  const token = claims(result.IdToken);
  const session = { idToken: result.IdToken, email: token.email, expiresAt: token.exp * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}
