/** The typed client (clients/typescript) pointed at the API named in /config.json, with the credential. */
import { createCommerceClient, CommerceApiError, type CommerceClient } from "@commerce/client";
import { authorization, type CognitoConfig, type Credential } from "./auth";

export interface AppConfig {
  apiBaseUrl: string;
  /** The staff pool's app client (staff sign-in); absent: API key only. */
  cognito?: CognitoConfig;
}

export function appConfig(): AppConfig | null {
  return config;
}

let config: AppConfig | null = null;

/** config.json is written at deploy time (infra/) or by `make run` (devstack/admin.py). */
export async function loadConfig(): Promise<AppConfig> {
  if (config) return config;
  const answer = await fetch("./config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error(`config.json: HTTP ${answer.status}`);
  config = (await answer.json()) as AppConfig;
  return config;
}

/**
 * `onRefused`: called when the API answers 401 to the credential (the owner disabled this staff member or
 * changed their role: `token_revoked`; or the token expired, or the key was withdrawn) with the API's
 * message; the app then signs out and shows the sign-in page. The call itself still fails as usual.
 */
export function clientFor(credential: Credential, onRefused?: (message: string) => void): CommerceClient {
  if (!config) throw new Error("loadConfig() first");
  const refusing = async (request: Request): Promise<Response> => {
    const response = await fetch(request);
    if (response.status === 401 && onRefused && request.headers.has("Authorization")) {
      const body = (await response.clone().json().catch(() => null)) as { error?: { message?: string } } | null;
      onRefused(body?.error?.message ?? "Please sign in again.");
    }
    return response;
  };
  // The client sends `adminKey` as `Authorization: Bearer …`: a key or a staff JWT alike.
  return createCommerceClient(config.apiBaseUrl, {
    adminKey: authorization(credential).slice("Bearer ".length),
    fetch: refusing,
  });
}

export function problem(error: unknown): string {
  if (error instanceof CommerceApiError) {
    return error.param ? `${error.message} (${error.param})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export { CommerceApiError };
