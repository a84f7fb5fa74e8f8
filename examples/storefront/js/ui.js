// Small DOM helpers: every text goes in as text (never as HTML), so API data cannot inject markup.
import { describeError } from "./format.js";
import { currentCart, itemCount } from "./cart.js";
import { currentSession, signInAvailable } from "./session.js";

/** h("a", {href: "x", class: "y"}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Show an error (ApiError or Stripe.js error) in `region`: a title, the message, and the code. */
export function showError(region, error, lineTitle) {
  const { title, message, code } = describeError(error, lineTitle);
  region.replaceChildren(
    h("div", { class: "notice error", role: "alert", "data-code": code },
      h("p", {}, h("strong", {}, title)),
      h("p", { class: "message" }, message),
      h("p", { class: "code" }, "Error code: ", h("code", {}, code))),
  );
  return code;
}

export function showNotice(region, text, kind = "ok") {
  region.replaceChildren(h("div", { class: `notice ${kind}`, role: "status" }, h("p", {}, text)));
}

export function clear(region) {
  region.replaceChildren();
}

/** The header's cart link: "Cart (3)". */
export function setCartCount(count) {
  const badge = document.getElementById("cart-count");
  if (!badge) return;
  badge.textContent = String(count);
  badge.closest("a").setAttribute("aria-label", `Cart, ${count} item${count === 1 ? "" : "s"}`);
}

export async function refreshCartCount(cart) {
  try {
    setCartCount(itemCount(cart === undefined ? await currentCart() : cart));
  } catch {
    // the count is a nicety; the page says what failed elsewhere
  }
}

export function setBusy(button, busy, busyText) {
  if (busy) {
    button.dataset.label = button.textContent;
    if (busyText) button.textContent = busyText;
  } else if (button.dataset.label) {
    button.textContent = button.dataset.label;
  }
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
}

/** Subtotal, discount, shipping, tax and total of a cart or an order, as <dt>/<dd> pairs in `dl`. */
export function renderTotals(dl, totals, formatMoney) {
  const rows = [
    ["Subtotal", totals.subtotal, "subtotal"],
    ["Discount", totals.discount_total ? -totals.discount_total : 0, "discount", !totals.discount_total],
    ["Shipping", totals.shipping_total, "shipping"],
    ["Tax", totals.tax_total, "tax"],
    ["Total", totals.total, "total"],
  ];
  dl.replaceChildren(
    ...rows.filter(([, , , hide]) => !hide).flatMap(([label, amount, name]) => [
      h("dt", { class: name }, label),
      h("dd", { class: name, "data-total": name }, formatMoney(amount, totals.currency)),
    ]),
  );
}

/** The header's account link: "Account" when signed in, "Sign in" otherwise (hidden when the shop has no sign-in). */
function renderAccountLink() {
  const link = document.getElementById("account-link");
  if (!link) return;
  const session = currentSession();
  link.hidden = !signInAvailable() && !session;
  link.textContent = session ? "Account" : "Sign in";
  link.href = session ? "account.html" : `signin.html?next=${encodeURIComponent(location.pathname.split("/").pop() + location.search)}`;
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAccountLink);
  else renderAccountLink();
}
