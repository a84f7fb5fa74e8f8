// The cart id lives in localStorage: it is the storefront's only key to its cart (API.md).
import { api } from "./api.js";

const CART_KEY = "commerce.cart_id";
const CHECKOUT_KEY = "commerce.checkout";

export const cartId = {
  get: () => localStorage.getItem(CART_KEY),
  set: (value) => localStorage.setItem(CART_KEY, value),
  clear: () => localStorage.removeItem(CART_KEY),
};

/** The checkout answer ({order, order_token, payment}) of the current cart, kept for the payment page. */
export const pendingCheckout = {
  get() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(CHECKOUT_KEY) || "null");
      return saved && saved.cartId === cartId.get() ? saved.checkout : null;
    } catch {
      return null;
    }
  },
  set: (checkout) => sessionStorage.setItem(CHECKOUT_KEY, JSON.stringify({ cartId: cartId.get(), checkout })),
  clear: () => sessionStorage.removeItem(CHECKOUT_KEY),
};

/** The current cart, or null when there is none (or it has expired). */
export async function currentCart() {
  const id = cartId.get();
  if (!id) return null;
  try {
    return await api.getCart(id);
  } catch (error) {
    if (error.code === "resource_missing") {
      cartId.clear();
      return null;
    }
    throw error;
  }
}

/** Add `quantity` of `sku`, creating a cart first when there is none (or the stored one is gone or checked out). */
export async function addToCart(sku, quantity, currency) {
  const id = cartId.get();
  if (id) {
    try {
      return await api.addLine(id, sku, quantity);
    } catch (error) {
      if (error.code !== "resource_missing" && error.code !== "cart_checked_out") throw error;
      cartId.clear();
    }
  }
  const cart = await api.createCart(currency);
  cartId.set(cart.id);
  return api.addLine(cart.id, sku, quantity);
}

export const itemCount = (cart) => (cart ? cart.lines.reduce((sum, line) => sum + line.quantity, 0) : 0);
