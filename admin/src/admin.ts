/** Admin reads the typed client has no helper for yet: through its `rawAdmin` openapi-fetch client. */
import { CommerceApiError, type CommerceClient, type Order, type Product, type Schemas, type StockLevel } from "@commerce/client";

export type Funnel = Schemas["Funnel"];

async function ok<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok || data === undefined) throw new CommerceApiError(response.status, error);
  return data;
}

export function funnel(client: CommerceClient, from: string, to: string): Promise<Funnel> {
  return ok(client.rawAdmin.GET("/admin/reports/funnel", { params: { query: { from, to } } }));
}

export async function stockLevels(client: CommerceClient, skus: string[]): Promise<StockLevel[]> {
  const levels: StockLevel[] = [];
  for (let start = 0; start < skus.length; start += 100) {
    const page = await ok(client.rawAdmin.GET("/admin/inventory", {
      params: { query: { skus: skus.slice(start, start + 100).join(",") } },
    }));
    levels.push(...page.data);
  }
  return levels;
}

/** Every active product (the catalogue's pages followed). */
export async function allProducts(client: CommerceClient): Promise<Product[]> {
  const products: Product[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listProducts(cursor ? { limit: 100, cursor } : { limit: 100 });
    products.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return products;
}

/** SKUs at or below their low-stock threshold. */
export async function lowStock(client: CommerceClient): Promise<StockLevel[]> {
  const skus = (await allProducts(client)).flatMap((p) => p.variants.map((v) => v.sku));
  return (await stockLevels(client, skus)).filter(
    (s) => s.low_stock_threshold !== null && s.low_stock_threshold !== undefined && s.available <= s.low_stock_threshold,
  );
}

/** Paid orders not yet fully shipped (from the newest 100 paid orders). */
export async function waitingToShip(client: CommerceClient): Promise<Order[]> {
  const page = await client.admin.listOrders({ status: "paid", limit: 100 });
  return page.data.filter((o) => o.fulfilment_status !== "shipped" && o.payment_status !== "refunded");
}

/** Queue the order confirmation email again (a paid order only). */
export function resendConfirmation(client: CommerceClient, orderId: string) {
  return ok(client.rawAdmin.POST("/admin/orders/{order_id}/confirmation-email", {
    params: { path: { order_id: orderId }, header: { "Idempotency-Key": crypto.randomUUID() } },
  }));
}

export function exportProducts(client: CommerceClient) {
  return ok(client.rawAdmin.GET("/admin/products/export", {}));
}

export function importProducts(client: CommerceClient, csv: string) {
  return ok(client.rawAdmin.POST("/admin/products/import", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } }, body: { csv },
  }));
}

export type LedgerEntry = Schemas["LedgerEntry"];

export function adjustStock(client: CommerceClient, sku: string, body: Schemas["AdjustmentIn"]) {
  return ok(client.rawAdmin.POST("/admin/inventory/{sku}/adjustments", {
    params: { path: { sku }, header: { "Idempotency-Key": crypto.randomUUID() } }, body,
  }));
}

export async function stockLedger(client: CommerceClient, sku: string): Promise<LedgerEntry[]> {
  const page = await ok(client.rawAdmin.GET("/admin/inventory/{sku}/ledger", { params: { path: { sku }, query: { limit: 20 } } }));
  return page.data;
}

// Customers, messages, discounts and the audit log (their typed client helpers are in clients/typescript).
export type AdminCustomer = Schemas["AdminCustomer"];
export type AdminCustomerDetail = Schemas["AdminCustomerDetail"];
export type Thread = Schemas["Thread"];
export type Message = Schemas["Message"];
export type AuditEntry = Schemas["AuditEntry"];

// Staff accounts (the owner's: staff:manage), users of the staff Cognito pool.
export type StaffMember = Schemas["StaffMember"];
export type StaffRole = StaffMember["roles"][number];

export async function listStaff(client: CommerceClient): Promise<StaffMember[]> {
  return (await ok(client.rawAdmin.GET("/admin/staff", {}))).data;
}

export function inviteStaff(client: CommerceClient, email: string, role: StaffRole) {
  return ok(client.rawAdmin.POST("/admin/staff", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } }, body: { email, role },
  }));
}

export function changeStaffRole(client: CommerceClient, username: string, role: StaffRole) {
  return ok(client.rawAdmin.PUT("/admin/staff/{username}/role", { params: { path: { username } }, body: { role } }));
}

export function setStaffEnabled(client: CommerceClient, username: string, enabled: boolean) {
  const params = { params: { path: { username }, header: { "Idempotency-Key": crypto.randomUUID() } } };
  return ok(enabled ? client.rawAdmin.POST("/admin/staff/{username}/enable", params)
    : client.rawAdmin.POST("/admin/staff/{username}/disable", params));
}
