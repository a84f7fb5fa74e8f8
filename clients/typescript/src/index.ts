/**
 * A typed client of the commerce HTTP API. Types come from ../../openapi.json (`npm run generate` writes
 * src/schema.d.ts); requests go through openapi-fetch. Every helper returns the documented answer or throws
 * a CommerceApiError whose `code` is one of the API's error codes.
 *
 *     const shop = createCommerceClient("http://127.0.0.1:8000");
 *     const cart = await shop.createCart();
 *     await shop.addLine(cart.id, { sku: "TEE-M", quantity: 1 });
 *
 * A signed-in customer's calls take their Cognito ID (or access) token:
 *
 *     const me = shop.customer(idToken);
 *     const cart = await me.attachCart(guestCartId);   // the account's cart, the guest cart merged in
 *     const orders = await me.listOrders();
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

export type Schemas = components["schemas"];
export type Product = Schemas["Product"];
export type Variant = Schemas["Variant"];
export type ProductPage = Schemas["ProductPage"];
export type Cart = Schemas["Cart"];
export type CartLine = Schemas["CartLine"];
export type Address = Schemas["Address-Input"];
export type Checkout = Schemas["Checkout"];
export type Payment = Schemas["Payment"];
export type OrderPayment = Schemas["OrderPayment"];
export type Order = Schemas["Order"];
export type OrderPage = Schemas["OrderPage"];
export type Discount = Schemas["Discount"];
export type DiscountPage = Schemas["DiscountPage"];
export type StockLevel = Schemas["StockLevel"];
export type SalesReport = Schemas["SalesReport"];
export type GiftCard = Schemas["GiftCard"];
export type GiftCardPage = Schemas["GiftCardPage"];
export type GiftCardBalance = Schemas["GiftCardBalance"];
export type IssueGiftCard = Schemas["IssueGiftCard"];
export type CreditChange = Schemas["CreditChange"];
export type Return = Schemas["Return"];
export type ReturnPage = Schemas["ReturnPage"];

export type CreateCart = Schemas["CreateCart"];
export type AddLine = Schemas["AddLine"];
export type UpdateCart = Schemas["UpdateCart"];
export type CheckoutIn = Schemas["CheckoutIn"];
export type ProductIn = Schemas["ProductIn"];
export type InventoryIn = Schemas["InventoryIn"];
export type ShipmentIn = Schemas["ShipmentIn"];
export type CancelIn = Schemas["CancelIn"];
export type RefundIn = Schemas["RefundIn"];
export type DiscountIn = Schemas["DiscountIn"];
export type Quote = Schemas["Quote"];
export type QuotePage = Schemas["QuotePage"];
export type QuoteIn = Schemas["QuoteIn"];
export type AnswerIn = Schemas["AnswerIn"];
export type AcceptIn = Schemas["AcceptIn"];
export type Invoice = Schemas["Invoice"];
export type InvoicePage = Schemas["InvoicePage"];
export type Sale = Schemas["Sale"];
export type SalePage = Schemas["SalePage"];
export type SaleIn = Schemas["SaleIn"];
export type Image = Schemas["Image"];
export type ImageUpload = Schemas["ImageUpload"];
export type ImageUploadIn = Schemas["ImageUploadIn"];
export type ReturnIn = Schemas["ReturnIn"];
export type DecisionIn = Schemas["DecisionIn"];
export type ReceiveIn = Schemas["ReceiveIn"];
export type SettleIn = Schemas["SettleIn"];

export type Customer = Schemas["Customer"];
export type SavedAddress = Schemas["SavedAddress"];
export type ProfileIn = Schemas["ProfileIn"];
export type AddressIn = Schemas["AddressIn"];
export type AddressChange = Schemas["AddressChange"];

export type Company = Schemas["Company"];
export type CompanyView = Schemas["CompanyView"];
export type CompanyIn = Schemas["CompanyIn"];
export type CompanyChange = Schemas["CompanyChange"];
export type Buyer = Schemas["Buyer"];
export type BuyerIn = Schemas["BuyerIn"];
export type PriceList = Schemas["PriceList"];
export type PriceListIn = Schemas["PriceListIn"];
export type PurchaseRequest = Schemas["PurchaseRequest"];
export type Decision = Schemas["Decision"];
export type PurchaseRequestAnswer = Schemas["PurchaseRequestAnswer"];

/** Every error code of the API (the union of the per-status `Error4xx`/`Error5xx` schemas). */
export type ErrorCode = Schemas[Extract<keyof Schemas, `Error${number}`>]["error"]["code"];
export type ErrorDetail = Schemas["ErrorDetail"];

/** A non-2xx answer. `code` is undefined only when the body is not the API's error envelope. */
export class CommerceApiError extends Error {
  override readonly name = "CommerceApiError";
  readonly status: number;
  readonly code: ErrorCode | undefined;
  readonly param: string | undefined;
  readonly detail: ErrorDetail | undefined;

  constructor(status: number, body: unknown) {
    const detail = isEnvelope(body) ? body.error : undefined;
    super(detail?.message ?? `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.code = detail?.code as ErrorCode | undefined;
    this.param = detail?.param;
  }
}

function isEnvelope(body: unknown): body is Schemas["Error"] {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error: unknown = (body as { error: unknown }).error;
  return typeof error === "object" && error !== null && "code" in error && "message" in error;
}

/** Thrown by `checkout` when the API answered 202: a company buyer's cart above their spending limit became a
 * purchase request (use `checkoutOrRequest` to get either answer without an exception). */
export class PurchaseRequestPending extends Error {
  override readonly name = "PurchaseRequestPending";
  readonly request: PurchaseRequestAnswer["purchase_request"];

  constructor(request: PurchaseRequestAnswer["purchase_request"]) {
    super(`Purchase request ${request.id} waits for an approver.`);
    this.request = request;
  }
}

function placed(answer: Checkout | PurchaseRequestAnswer): Checkout {
  if ("purchase_request" in answer) throw new PurchaseRequestPending(answer.purchase_request);
  return answer;
}

type Answer<T> = { data: T; error?: never; response: Response } | { data?: never; error: unknown; response: Response };

async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) throw new CommerceApiError(response.status, error);
  return data as T;
}

export interface CommerceClientOptions {
  /** The admin API key: sent as `Authorization: Bearer <key>` by the `admin` helpers only. */
  adminKey?: string;
  /** A fetch to use instead of globalThis.fetch (tests, SSR frameworks). */
  fetch?: (input: Request) => Promise<Response>;
}

/** Options of every POST helper: pass the same key again to retry a request safely. */
export interface PostOptions {
  idempotencyKey?: string;
}

function keyed(options: PostOptions | undefined): { "Idempotency-Key": string } {
  return { "Idempotency-Key": options?.idempotencyKey ?? crypto.randomUUID() };
}

/** The calls of a signed-in customer: `Authorization: Bearer <Cognito ID or access token>` on each. */
function customerHelpers(common: { baseUrl: string; fetch?: (input: Request) => Promise<Response> }, token: string) {
  const raw: Client<paths> = createClient<paths>({ ...common, headers: { Authorization: `Bearer ${token}` } });
  return {
    raw,
    getMe: () => unwrap(raw.GET("/me")),
    updateMe: (body: ProfileIn) => unwrap(raw.PATCH("/me", { body })),
    /** 204: profile and addresses deleted, orders anonymised, the sign-in deleted. Sign out afterwards. */
    deleteMe: async () => {
      const { error, response } = await raw.DELETE("/me");
      if (!response.ok) throw new CommerceApiError(response.status, error);
    },
    exportMe: () => unwrap(raw.GET("/me/export")),
    listAddresses: () => unwrap(raw.GET("/me/addresses")),
    addAddress: (body: AddressIn, post?: PostOptions) =>
      unwrap(raw.POST("/me/addresses", { params: { header: keyed(post) }, body })),
    changeAddress: (addressId: string, body: AddressChange) =>
      unwrap(raw.PATCH("/me/addresses/{address_id}", { params: { path: { address_id: addressId } }, body })),
    removeAddress: async (addressId: string) => {
      const { error, response } = await raw.DELETE("/me/addresses/{address_id}", {
        params: { path: { address_id: addressId } },
      });
      if (!response.ok) throw new CommerceApiError(response.status, error);
    },
    /** On sign-in: the account's one open cart, with the guest cart's lines merged in (or the guest cart itself). */
    attachCart: (guestCartId: string, post?: PostOptions) =>
      unwrap(raw.POST("/me/carts", { params: { header: keyed(post) }, body: { cart_id: guestCartId } })),
    /** The customer's orders, newest first; pass `next_cursor` as `cursor` for the next page. */
    listOrders: (query: { limit?: number; cursor?: string } = {}) => unwrap(raw.GET("/me/orders", { params: { query } })),
    /** A signed-in checkout: the order records the customer. Throws PurchaseRequestPending on a 202 (B2B). */
    checkout: async (cartId: string, body: CheckoutIn = {}, post?: PostOptions): Promise<Checkout> =>
      placed(await unwrap(raw.POST("/carts/{cart_id}/checkout", {
        params: { path: { cart_id: cartId }, header: keyed(post) }, body,
      }))),
    /** B2B: the Checkout, or `{purchase_request}` when the total is above the buyer's spending limit (202). */
    checkoutOrRequest: (cartId: string, body: CheckoutIn = {}, post?: PostOptions) =>
      unwrap(raw.POST("/carts/{cart_id}/checkout", { params: { path: { cart_id: cartId }, header: keyed(post) }, body })),
    /** B2B: the buyer's company (with its buyers and the caller's role); a 404 outside any company. */
    getCompany: () => unwrap(raw.GET("/company")),
    /** B2B: the company's orders, by any of its buyers, newest first. */
    listCompanyOrders: (query: { limit?: number; cursor?: string } = {}) =>
      unwrap(raw.GET("/company/orders", { params: { query } })),
    /** B2B: checkouts above a buyer's spending limit (checkout answered 202 `{purchase_request}`). */
    listPurchaseRequests: (query: { limit?: number; cursor?: string } = {}) =>
      unwrap(raw.GET("/company/purchase-requests", { params: { query } })),
    /** B2B, approvers only: checks the buyer's cart out now; the answer carries `order_id`. */
    approvePurchaseRequest: (requestId: string, body: Decision = {}, post?: PostOptions) =>
      unwrap(raw.POST("/company/purchase-requests/{request_id}/approve", {
        params: { path: { request_id: requestId }, header: keyed(post) }, body,
      })),
    rejectPurchaseRequest: (requestId: string, body: Decision = {}, post?: PostOptions) =>
      unwrap(raw.POST("/company/purchase-requests/{request_id}/reject", {
        params: { path: { request_id: requestId }, header: keyed(post) }, body,
      })),
    /** The owner's order with the bearer token instead of X-Order-Token (optional in openapi.json). */
    getOrder: (orderId: string) =>
      unwrap(raw.GET("/orders/{order_id}", { params: { path: { order_id: orderId } } })),
    /** B2B: ask the shop for prices on the buyer's account cart. */
    requestQuote: (cartId: string, body: QuoteIn = {}, post?: PostOptions) =>
      unwrap(raw.POST("/carts/{cart_id}/quote", { params: { path: { cart_id: cartId }, header: keyed(post) }, body })),
    getQuote: (quoteId: string) => unwrap(raw.GET("/quotes/{quote_id}", { params: { path: { quote_id: quoteId } } })),
    /** The quote's cart checked out at the quoted prices (one order per quote); `{payment_method: "invoice"}`
     * pays on the company's terms. */
    acceptQuote: (quoteId: string, body: AcceptIn = {}, post?: PostOptions) =>
      unwrap(raw.POST("/quotes/{quote_id}/accept", { params: { path: { quote_id: quoteId }, header: keyed(post) }, body })),
    /** The owner's order waiting for its payment: see `orderPayment`. */
    orderPayment: (orderId: string) =>
      unwrap(raw.GET("/orders/{order_id}/payment", { params: { path: { order_id: orderId } } })),
  };
}

/** The storefront helpers, `admin` helpers, `customer(token)` helpers, and the underlying openapi-fetch
 * clients (`raw`, `rawAdmin`). */
export function createCommerceClient(baseUrl: string, options: CommerceClientOptions = {}) {
  const base = baseUrl.replace(/\/+$/, "");
  const common = options.fetch ? { baseUrl: base, fetch: options.fetch } : { baseUrl: base };
  const raw: Client<paths> = createClient<paths>(common);
  const rawAdmin: Client<paths> = createClient<paths>(
    options.adminKey ? { ...common, headers: { Authorization: `Bearer ${options.adminKey}` } } : common,
  );

  return {
    raw,
    rawAdmin,

    /** Active products: oldest first, or by `category` and `sort` (newest, price_asc, price_desc, title). */
    listProducts: (query: NonNullable<operations["list_products"]["parameters"]["query"]> = {}) =>
      unwrap(raw.GET("/products", { params: { query } })),
    /** The category tree: root categories with their `children`. */
    categories: () => unwrap(raw.GET("/categories")),
    /** A category's path from the root down to it. */
    breadcrumbs: (slug: string) => unwrap(raw.GET("/categories/{slug}/breadcrumbs", { params: { path: { slug } } })),
    /** Full-text search with facets (`q`, `category`, price range, `in_stock`, `sort`, paging). */
    search: (query: NonNullable<operations["search_products"]["parameters"]["query"]> = {}) =>
      unwrap(raw.GET("/search", { params: { query } })),
    getProduct: (productId: string) => unwrap(raw.GET("/products/{product_id}", { params: { path: { product_id: productId } } })),
    recommendations: (productId: string) =>
      unwrap(raw.GET("/products/{product_id}/recommendations", { params: { path: { product_id: productId } } })),

    createCart: (body: CreateCart = {}, post?: PostOptions) =>
      unwrap(raw.POST("/carts", { params: { header: keyed(post) }, body })),
    getCart: (cartId: string) => unwrap(raw.GET("/carts/{cart_id}", { params: { path: { cart_id: cartId } } })),
    addLine: (cartId: string, body: AddLine, post?: PostOptions) =>
      unwrap(raw.POST("/carts/{cart_id}/lines", { params: { path: { cart_id: cartId }, header: keyed(post) }, body })),
    setQuantity: (cartId: string, sku: string, quantity: number) =>
      unwrap(raw.PATCH("/carts/{cart_id}/lines/{sku}", { params: { path: { cart_id: cartId, sku } }, body: { quantity } })),
    removeLine: (cartId: string, sku: string) =>
      unwrap(raw.DELETE("/carts/{cart_id}/lines/{sku}", { params: { path: { cart_id: cartId, sku } } })),
    updateCart: (cartId: string, body: UpdateCart) =>
      unwrap(raw.PATCH("/carts/{cart_id}", { params: { path: { cart_id: cartId } }, body })),
    restoreCart: (token: string, post?: PostOptions) =>
      unwrap(raw.POST("/carts/restore", { params: { header: keyed(post) }, body: { token } })),
    /** Apply a gift card by its code: the cart's `gift_cards` and `amount_due` show what it pays. */
    applyGiftCard: (cartId: string, code: string, post?: PostOptions) =>
      unwrap(raw.POST("/carts/{cart_id}/gift-cards", { params: { path: { cart_id: cartId }, header: keyed(post) }, body: { code } })),
    removeGiftCard: (cartId: string, last4: string) =>
      unwrap(raw.DELETE("/carts/{cart_id}/gift-cards/{last4}", { params: { path: { cart_id: cartId, last4 } } })),
    /** Rate-limited per address: a 429 `too_many_attempts` past the shop's limit. */
    giftCardBalance: (code: string) =>
      unwrap(raw.GET("/gift-cards/{code}/balance", { params: { path: { code } } })),
    /** 201 with a new order, 200 with the same order on a repeat: either way the Checkout. (A company buyer's
     * cart above their spending limit is a 202: PurchaseRequestPending is thrown.) */
    checkout: async (cartId: string, body: CheckoutIn = {}, post?: PostOptions): Promise<Checkout> =>
      placed(await unwrap(raw.POST("/carts/{cart_id}/checkout", {
        params: { path: { cart_id: cartId }, header: keyed(post) }, body,
      }))),
    getOrder: (orderId: string, orderToken: string) =>
      unwrap(raw.GET("/orders/{order_id}", { params: { path: { order_id: orderId }, header: { "X-Order-Token": orderToken } } })),
    /** An order waiting for its payment (e.g. a dearer exchange's difference): confirm `client_secret` with
     * Stripe.js (`confirmCardPayment`) as after checkout; the webhook marks the order paid. 409 once it is paid
     * or cancelled. */
    orderPayment: (orderId: string, orderToken: string) =>
      unwrap(raw.GET("/orders/{order_id}/payment", {
        params: { path: { order_id: orderId }, header: { "X-Order-Token": orderToken } },
      })),
    /** Ask to return shipped lines (within the return window): 201 with the Return, `requested`. */
    requestReturn: (orderId: string, orderToken: string, body: ReturnIn, post?: PostOptions) =>
      unwrap(raw.POST("/orders/{order_id}/returns", {
        params: { path: { order_id: orderId }, header: { "X-Order-Token": orderToken, ...keyed(post) } }, body,
      })),
    listReturns: (orderId: string, orderToken: string) =>
      unwrap(raw.GET("/orders/{order_id}/returns", {
        params: { path: { order_id: orderId }, header: { "X-Order-Token": orderToken } },
      })),

    /** The calls of the customer whose Cognito token this is (sign-in is Cognito's, never the API's). */
    customer: (token: string) => customerHelpers(common, token),

    admin: {
      createProduct: (body: ProductIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/products", { params: { header: keyed(post) }, body })),
      updateProduct: (productId: string, body: ProductIn) =>
        unwrap(rawAdmin.PUT("/admin/products/{product_id}", { params: { path: { product_id: productId } }, body })),
      setInventory: (sku: string, body: InventoryIn) =>
        unwrap(rawAdmin.PUT("/admin/inventory/{sku}", { params: { path: { sku } }, body })),
      listOrders: (query: NonNullable<operations["list_orders"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/orders", { params: { query } })),
      getOrder: (orderId: string) =>
        unwrap(rawAdmin.GET("/admin/orders/{order_id}", { params: { path: { order_id: orderId } } })),
      /** The emails sent about an order (its timeline), oldest first. */
      orderEmails: (orderId: string) =>
        unwrap(rawAdmin.GET("/admin/orders/{order_id}/emails", { params: { path: { order_id: orderId } } })),
      createShipment: (orderId: string, body: ShipmentIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/orders/{order_id}/shipments", {
          params: { path: { order_id: orderId }, header: keyed(post) }, body,
        })),
      cancelOrder: (orderId: string, body: CancelIn = {}, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/orders/{order_id}/cancel", {
          params: { path: { order_id: orderId }, header: keyed(post) }, body,
        })),
      refundOrder: (orderId: string, body: RefundIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/orders/{order_id}/refunds", {
          params: { path: { order_id: orderId }, header: keyed(post) }, body,
        })),
      createDiscount: (body: DiscountIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/discounts", { params: { header: keyed(post) }, body })),
      listDiscounts: (query: { limit?: number; cursor?: string } = {}) =>
        unwrap(rawAdmin.GET("/admin/discounts", { params: { query } })),
      /** The answer carries the card's `code`, shown this once. */
      issueGiftCard: (body: IssueGiftCard, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/gift-cards", { params: { header: keyed(post) }, body })),
      /** With `code`: that card with its ledger (404 when none); without: the newest cards. */
      listGiftCards: (query: { code?: string; limit?: number; cursor?: string } = {}) =>
        unwrap(rawAdmin.GET("/admin/gift-cards", { params: { query } })),
      getGiftCard: (giftCardId: string) =>
        unwrap(rawAdmin.GET("/admin/gift-cards/{gift_card_id}", { params: { path: { gift_card_id: giftCardId } } })),
      disableGiftCard: (giftCardId: string, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/gift-cards/{gift_card_id}/disable", {
          params: { path: { gift_card_id: giftCardId }, header: keyed(post) },
        })),
      giveCredit: (customerId: string, body: CreditChange, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/customers/{customer_id}/credit", {
          params: { path: { customer_id: customerId }, header: keyed(post) }, body,
        })),
      createCompany: (body: CompanyIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/companies", { params: { header: keyed(post) }, body })),
      listCompanies: (query: { limit?: number; cursor?: string } = {}) =>
        unwrap(rawAdmin.GET("/admin/companies", { params: { query } })),
      getCompany: (companyId: string) =>
        unwrap(rawAdmin.GET("/admin/companies/{company_id}", { params: { path: { company_id: companyId } } })),
      changeCompany: (companyId: string, body: CompanyChange) =>
        unwrap(rawAdmin.PATCH("/admin/companies/{company_id}", { params: { path: { company_id: companyId } }, body })),
      addBuyer: (companyId: string, body: BuyerIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/companies/{company_id}/buyers", {
          params: { path: { company_id: companyId }, header: keyed(post) }, body,
        })),
      createPriceList: (body: PriceListIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/price-lists", { params: { header: keyed(post) }, body })),
      listPriceLists: (query: { limit?: number; cursor?: string } = {}) =>
        unwrap(rawAdmin.GET("/admin/price-lists", { params: { query } })),
      getPriceList: (priceListId: string) =>
        unwrap(rawAdmin.GET("/admin/price-lists/{price_list_id}", { params: { path: { price_list_id: priceListId } } })),
      replacePriceList: (priceListId: string, body: PriceListIn) =>
        unwrap(rawAdmin.PUT("/admin/price-lists/{price_list_id}", {
          params: { path: { price_list_id: priceListId } }, body,
        })),
      /** One row per tier: `sku,min_quantity,price[,sku_min_quantity,step]`; prices in minor units. */
      importPriceList: (priceListId: string, csv: string, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/price-lists/{price_list_id}/import", {
          params: { path: { price_list_id: priceListId }, header: keyed(post) }, body: { csv },
        })),
      createSale: (body: SaleIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/sales", { params: { header: keyed(post) }, body })),
      listSales: (query: { limit?: number; cursor?: string } = {}) =>
        unwrap(rawAdmin.GET("/admin/sales", { params: { query } })),
      /** A new image of the product: PUT its bytes to `upload_url` with the same Content-Type. */
      addProductImage: (productId: string, body: ImageUploadIn = {}, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/products/{product_id}/images", {
          params: { path: { product_id: productId }, header: keyed(post) }, body,
        })),
      /** Returns in one status (`requested` by default), oldest first. */
      listReturns: (query: NonNullable<operations["list_returns"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/returns", { params: { query } })),
      approveReturn: (returnId: string, body: DecisionIn = {}, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/returns/{return_id}/approve", {
          params: { path: { return_id: returnId }, header: keyed(post) }, body,
        })),
      rejectReturn: (returnId: string, body: DecisionIn = {}, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/returns/{return_id}/reject", {
          params: { path: { return_id: returnId }, header: keyed(post) }, body,
        })),
      receiveReturn: (returnId: string, body: ReceiveIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/returns/{return_id}/receive", {
          params: { path: { return_id: returnId }, header: keyed(post) }, body,
        })),
      /** Settle once: `original` refund, `store_credit`, or `exchange` with `exchange_lines`. */
      settleReturn: (returnId: string, body: SettleIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/returns/{return_id}/refund", {
          params: { path: { return_id: returnId }, header: keyed(post) }, body,
        })),
      salesReport: (query: NonNullable<operations["sales_report"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/reports/sales", { params: { query } })),
      listQuotes: (query: NonNullable<operations["list_quotes"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/quotes", { params: { query } })),
      answerQuote: (quoteId: string, body: AnswerIn, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/quotes/{quote_id}/answer", {
          params: { path: { quote_id: quoteId }, header: keyed(post) }, body,
        })),
      listInvoices: (query: NonNullable<operations["list_invoices"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/invoices", { params: { query } })),
      /** The invoice with `url`: a short-lived link to its PDF. */
      getInvoice: (invoiceId: string) =>
        unwrap(rawAdmin.GET("/admin/invoices/{invoice_id}", { params: { path: { invoice_id: invoiceId } } })),
      markInvoicePaid: (invoiceId: string, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/invoices/{invoice_id}/paid", {
          params: { path: { invoice_id: invoiceId }, header: keyed(post) },
        })),
      disableDiscount: (code: string, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/discounts/{code}/disable", { params: { path: { code }, header: keyed(post) } })),
      listCustomers: (query: NonNullable<operations["list_customers"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/customers", { params: { query } })),
      getCustomer: (customerId: string) =>
        unwrap(rawAdmin.GET("/admin/customers/{customer_id}", { params: { path: { customer_id: customerId } } })),
      annotateCustomer: (customerId: string, body: Schemas["CustomerNotes"]) =>
        unwrap(rawAdmin.PATCH("/admin/customers/{customer_id}", { params: { path: { customer_id: customerId } }, body })),
      segmentCounts: () => unwrap(rawAdmin.GET("/admin/segments", {})),
      inbox: (query: NonNullable<operations["inbox"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/messages", { params: { query } })),
      orderMessages: (orderId: string) =>
        unwrap(rawAdmin.GET("/admin/orders/{order_id}/messages", { params: { path: { order_id: orderId } } })),
      reply: (orderId: string, body: Schemas["ReplyIn"], post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/orders/{order_id}/messages", {
          params: { path: { order_id: orderId }, header: keyed(post) }, body,
        })),
      closeThread: (orderId: string, post?: PostOptions) =>
        unwrap(rawAdmin.POST("/admin/orders/{order_id}/messages/close", {
          params: { path: { order_id: orderId }, header: keyed(post) }, body: {},
        })),
      /** The audit log (owner only): newest first, filtered by actor, resource prefix and days. */
      audit: (query: NonNullable<operations["audit_entries"]["parameters"]["query"]> = {}) =>
        unwrap(rawAdmin.GET("/admin/audit", { params: { query } })),
    },
  };
}

export type CommerceClient = ReturnType<typeof createCommerceClient>;
export type CustomerClient = ReturnType<CommerceClient["customer"]>;
