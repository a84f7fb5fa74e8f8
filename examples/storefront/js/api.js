// The HTTP API (see API.md): one fetch wrapper and one function per route the storefront uses.
import config from "../config.js";
import { idToken } from "./session.js";

const BASE = config.apiBaseUrl.replace(/\/+$/, "");
const RETRIES = 2; // only for POSTs, which carry an Idempotency-Key and so are safe to send again

/** An API answer that is not a 2xx, with the `error` object of its body: `code`, `message`, `param`... */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The API answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.param = error.param;
    this.details = error;
  }
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts (https, localhost) only
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Send a request and answer the parsed JSON body, or throw an ApiError. A POST gets a fresh
 * Idempotency-Key, and a retry after a network error, a 409 request_in_progress or a 502/503 sends
 * the same key again: the API then answers the first attempt's result instead of doing it twice.
 */
export async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (method === "POST") init.headers["Idempotency-Key"] = newKey();
  for (let attempt = 0; ; attempt += 1) {
    const retry = method === "POST" && attempt < RETRIES;
    let response;
    try {
      response = await fetch(BASE + path, init);
    } catch {
      // The browser does not say whether the network failed or CORS refused the answer.
      if (retry) {
        await sleep(400 * (attempt + 1));
        continue;
      }
      throw new ApiError(0, {
        code: "network_error",
        message: `The shop's API at ${BASE} cannot be reached (offline, or it refused this site: CORS).`,
      });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (response.ok) return json;
    const error = (json && json.error) || {};
    if (retry && (error.code === "request_in_progress" || response.status === 502 || response.status === 503)) {
      await sleep(400 * (attempt + 1));
      continue;
    }
    throw new ApiError(response.status, error);
  }
}

const id = encodeURIComponent;

/** The signed-in customer's `Authorization` header ({} for a guest). */
function bearer() {
  const token = idToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export const api = {
  /** A page of products; `category` (a slug) and `sort` (newest, price_asc, price_desc, title) when given. */
  listProducts: (cursor, { category, sort } = {}) => request("GET", `/products?limit=100${
    category ? `&category=${id(category)}` : ""}${sort ? `&sort=${id(sort)}` : ""}${cursor ? `&cursor=${id(cursor)}` : ""}`),
  search: (q, limit = 12, category = null) =>
    request("GET", `/search?q=${id(q)}&limit=${limit}${category ? `&category=${id(category)}` : ""}`),
  categories: () => request("GET", "/categories"),
  breadcrumbs: (slug) => request("GET", `/categories/${id(slug)}/breadcrumbs`),
  getProduct: (productId) => request("GET", `/products/${id(productId)}`),
  recommendations: (productId) => request("GET", `/products/${id(productId)}/recommendations`),
  createCart: (currency) => request("POST", "/carts", { body: currency ? { currency } : {} }),
  getCart: (cartId) => request("GET", `/carts/${id(cartId)}`),
  restoreCart: (token) => request("POST", "/carts/restore", { body: { token } }),
  addLine: (cartId, sku, quantity) => request("POST", `/carts/${id(cartId)}/lines`, { body: { sku, quantity } }),
  setQuantity: (cartId, sku, quantity) =>
    request("PATCH", `/carts/${id(cartId)}/lines/${id(sku)}`, { body: { quantity } }),
  removeLine: (cartId, sku) => request("DELETE", `/carts/${id(cartId)}/lines/${id(sku)}`),
  updateCart: (cartId, changes) => request("PATCH", `/carts/${id(cartId)}`, { body: changes }),
  applyGiftCard: (cartId, code) => request("POST", `/carts/${id(cartId)}/gift-cards`, { body: { code } }),
  removeGiftCard: (cartId, last4) => request("DELETE", `/carts/${id(cartId)}/gift-cards/${id(last4)}`),
  // Signed in, the order records the customer (and shows in GET /me/orders).
  checkout: (cartId) => request("POST", `/carts/${id(cartId)}/checkout`, { body: {}, headers: bearer() }),
  // With the order token (links, guests) or else the owner's bearer token.
  getOrder: (orderId, token) =>
    request("GET", `/orders/${id(orderId)}`, { headers: token ? { "X-Order-Token": token } : bearer() }),
  // An order waiting for its payment (a dearer exchange's difference): the client secret for Stripe.js, the
  // provider's live status and the amount due; 409 invalid_state once it is paid or cancelled.
  orderPayment: (orderId, token) =>
    request("GET", `/orders/${id(orderId)}/payment`, { headers: token ? { "X-Order-Token": token } : bearer() }),
  // Returns of an order, with the same proof as the order page.
  listReturns: (orderId, token) =>
    request("GET", `/orders/${id(orderId)}/returns`, { headers: token ? { "X-Order-Token": token } : bearer() }),
  requestReturn: (orderId, token, lines, comment) =>
    request("POST", `/orders/${id(orderId)}/returns`, {
      body: comment ? { lines, comment } : { lines }, headers: token ? { "X-Order-Token": token } : bearer() }),

  // The signed-in customer's routes.
  me: () => request("GET", "/me", { headers: bearer() }),
  /** Attach the guest cart to the account, or merge its lines into the account's open cart: the answer is the cart to use. */
  attachCart: (cartId) => request("POST", "/me/carts", { body: { cart_id: cartId }, headers: bearer() }),
  myOrders: (cursor) => request("GET", `/me/orders?limit=20${cursor ? `&cursor=${id(cursor)}` : ""}`, { headers: bearer() }),
};
