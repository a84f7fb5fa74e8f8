/**
 * What the signed-in person may do, to hide the actions they cannot take. A copy of chalicelib/permissions.py's
 * ROLES: the API enforces them on every admin route whatever the app shows (a hidden button is a courtesy).
 */
import type { Credential } from "./auth";

const READS = ["orders:read", "messages:read", "customers:read", "products:read", "stock:read", "discounts:read",
  "reports:read", "returns:read", "sales:read", "companies:read", "quotes:read", "invoices:read", "giftcards:read"];
const OWNER_ONLY = ["audit:read", "staff:manage"];

export const ROLES: Record<string, string[]> = {
  owner: ["*"],
  manager: ["*", ...OWNER_ONLY.map((p) => `!${p}`)],
  support: [...READS, "orders:refund", "orders:email", "messages:reply", "returns:decide"],
  fulfilment: ["orders:read", "orders:ship", "stock:read", "stock:write", "products:read", "reports:read", "returns:read",
    "returns:receive"],
};

export type Permission = "orders:read" | "orders:ship" | "orders:refund" | "orders:cancel" | "orders:email"
  | "messages:read" | "messages:reply" | "customers:read" | "customers:write" | "products:read" | "products:write"
  | "stock:read" | "stock:write" | "discounts:read" | "discounts:write" | "reports:read" | "audit:read"
  | "returns:read" | "returns:decide" | "returns:receive" | "returns:refund" | "customers:credit"
  | "sales:read" | "sales:write" | "companies:read" | "companies:write" | "quotes:read" | "quotes:write"
  | "invoices:read" | "invoices:write" | "giftcards:read" | "giftcards:write" | "staff:manage";

function claims(token: string): Record<string, unknown> {
  try {
    const part = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part)))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The staff roles of a credential (an API key: none, it is treated as holding every scope). */
export function rolesOf(credential: Credential): string[] {
  if (credential.kind !== "jwt") return [];
  const groups = claims(credential.secret)["cognito:groups"];
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string" && g in ROLES) : [];
}

export function whoIs(credential: Credential): string {
  if (credential.kind !== "jwt") return "API key";
  const c = claims(credential.secret);
  return String(c.email ?? c["cognito:username"] ?? "staff");
}

export function can(credential: Credential, permission: Permission): boolean {
  if (credential.kind !== "jwt") return true;
  return rolesOf(credential).some((role) => {
    const granted = ROLES[role] ?? [];
    return !granted.includes(`!${permission}`) && (granted.includes("*") || granted.includes(permission));
  });
}
