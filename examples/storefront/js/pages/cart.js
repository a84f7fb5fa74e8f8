import { api } from "../api.js";
import { cartId, currentCart, itemCount, pendingCheckout } from "../cart.js";
import { formatMoney } from "../format.js";
import { clear, h, renderTotals, setBusy, setCartCount, showError, showNotice } from "../ui.js";

const $ = (id) => document.getElementById(id);
const notice = $("notice");
const detailsForm = $("details-form");
const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "postal_code", "region", "country"];
let cart = null;
let detailsFilled = false;

const money = (amount) => formatMoney(amount, cart.currency);

/** The title of the cart line an out-of-stock answer is about (by SKU, or by "lines.<index>.quantity"). */
function lineTitle(sku, param) {
  const byIndex = /^lines\.(\d+)\./.exec(param || "");
  const line = sku ? cart.lines.find((item) => item.sku === sku) : byIndex && cart.lines[Number(byIndex[1])];
  return line ? line.title : null;
}

// --- rendering -----------------------------------------------------------------------------------

function lineItem(line, index) {
  const title = h("p", { class: "line-title" }, line.title);
  if (line.free) {
    return h("li", { class: "line", "data-sku": line.sku },
      h("div", { class: "line-main" }, title, h("p", { class: "muted" }, `${line.quantity} × free (promotion)`)),
      h("p", { class: "line-total" }, "Free"));
  }
  const inputId = `quantity-${index}`;
  const input = h("input", { id: inputId, type: "number", inputmode: "numeric", min: "0", step: "1",
                             value: String(line.quantity), required: true });
  const lineNotice = h("div", { class: "line-notice", "aria-live": "polite" });
  const form = h("form", { class: "line-quantity", novalidate: true },
    h("label", { for: inputId }, "Quantity", h("span", { class: "visually-hidden" }, ` of ${line.title}`)),
    input,
    h("button", { type: "submit", class: "secondary", "aria-label": `Update quantity of ${line.title}` }, "Update"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const quantity = Number(input.value);
    if (!Number.isInteger(quantity) || quantity < 0) {
      showError(lineNotice, { code: "invalid_request", message: "The quantity must be a whole number (0 removes the line)." });
      return;
    }
    change(lineNotice, form.querySelector("button"), () => api.setQuantity(cart.id, line.sku, quantity),
           () => line.title);
  });
  const remove = h("button", { type: "button", class: "link", "aria-label": `Remove ${line.title}` }, "Remove");
  remove.addEventListener("click", () =>
    change(lineNotice, remove, () => api.removeLine(cart.id, line.sku), () => line.title));
  return h("li", { class: "line editable", "data-sku": line.sku },
    h("div", { class: "line-main" }, title, h("p", { class: "muted" }, `${money(line.unit_price)} each · ${line.sku}`)),
    form,
    h("p", { class: "line-total" }, money(line.line_total)),
    remove,
    lineNotice);
}

function renderDiscount() {
  const status = $("discount-status");
  const discount = cart.discount;
  if (!cart.discount_code) {
    clear(status);
    return;
  }
  const removeButton = h("button", { type: "button", class: "link" }, "Remove code");
  removeButton.addEventListener("click", () =>
    change(status, removeButton, () => api.updateCart(cart.id, { discount_code: null })));
  if (discount && !discount.applied) {
    status.replaceChildren(h("div", { class: "notice warn", role: "status", "data-code": discount.reason || "" },
      h("p", {}, h("strong", {}, `Code ${cart.discount_code} does not apply`)),
      h("p", {}, discount.message || ""),
      h("p", { class: "code" }, "Code: ", h("code", {}, discount.reason || "not_applied"), " ", removeButton)));
  } else {
    status.replaceChildren(h("div", { class: "notice ok", role: "status" },
      h("p", {}, `Code ${cart.discount_code} applied`,
        cart.discount_total ? `: −${money(cart.discount_total)}` : "", ". ", removeButton)));
  }
}

function renderGiftCards() {
  const status = $("gift-card-status");
  const cards = cart.gift_cards || [];
  if (!cards.length) {
    clear(status);
    return;
  }
  const items = cards.map((card) => {
    const remove = h("button", { type: "button", class: "link", "aria-label": `Remove gift card ending ${card.last4}` },
      "Remove");
    remove.addEventListener("click", () => change(status, remove, () => api.removeGiftCard(cart.id, card.last4)));
    return h("li", {}, `Gift card …${card.last4}: −${money(card.amount_applied)} `, remove);
  });
  status.replaceChildren(h("div", { class: "notice ok", role: "status" }, h("ul", {}, ...items),
    h("p", {}, h("strong", {}, `To pay by card: ${money(cart.amount_due)}`))));
}

function renderShippingMethods() {
  const box = $("shipping-methods");
  box.replaceChildren(...cart.available_shipping_methods.map((method, index) => {
    const input = h("input", { type: "radio", name: "shipping_method", id: `shipping-${index}`, value: method.id,
                               checked: cart.shipping_method === method.id, required: true });
    input.addEventListener("change", () =>
      change($("checkout-notice"), null, () => api.updateCart(cart.id, { shipping_method: method.id })));
    return h("div", { class: "choice" }, input,
      h("label", { for: `shipping-${index}` },
        h("span", { class: "choice-title" }, method.title), " ",
        h("span", { class: "price" }, method.price ? money(method.price) : "Free")));
  }));
}

function fillDetails() {
  if (detailsFilled) return;
  detailsFilled = true;
  if (cart.email) $("email").value = cart.email;
  const address = cart.shipping_address || {};
  for (const field of ADDRESS_FIELDS) if (address[field]) $(field).value = address[field];
}

function render(next) {
  cart = next;
  setCartCount(itemCount(cart));
  $("loading").hidden = true;
  const checkedOut = cart && cart.status === "checked_out";
  const empty = !cart || (!checkedOut && cart.lines.length === 0);
  $("empty").hidden = !empty;
  $("checked-out").hidden = !checkedOut;
  $("cart").hidden = empty || checkedOut;
  if (checkedOut) $("checked-out-order").textContent = cart.order_id;
  if (empty || checkedOut) return;
  $("lines").replaceChildren(...cart.lines.map(lineItem));
  renderTotals($("totals"), cart, formatMoney);
  renderDiscount();
  renderGiftCards();
  renderShippingMethods();
  fillDetails();
}

// --- changes -------------------------------------------------------------------------------------

/** Run `request` (which answers the new cart) and show it, or show its error in `region`. */
async function change(region, button, request, titleOf = lineTitle) {
  clear(region);
  if (button) setBusy(button, true);
  try {
    render(await request());
    return true;
  } catch (error) {
    showError(region, error, titleOf);
    if (error.code === "cart_checked_out" || error.code === "resource_missing") render(await currentCart());
    return false;
  } finally {
    if (button) setBusy(button, false);
  }
}

$("gift-card-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("gift-card-code");
  const code = input.value.trim();
  if (!code) {
    input.focus();
    return;
  }
  if (await change($("gift-card-status"), event.submitter, () => api.applyGiftCard(cart.id, code))) {
    input.value = "";
  }
});

$("discount-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("discount-code");
  const code = input.value.trim();
  if (!code) {
    input.focus();
    return;
  }
  if (await change($("discount-status"), event.submitter, () => api.updateCart(cart.id, { discount_code: code }))) {
    input.value = "";
  }
});

function markInvalid(param) {
  for (const element of detailsForm.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  if (!param) return;
  const target = detailsForm.querySelector(`[data-param="${CSS.escape(param)}"]`);
  if (!target) return;
  const field = target.matches("fieldset") ? target.querySelector("input, select") : target;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

function details() {
  const address = {};
  for (const field of ADDRESS_FIELDS) {
    const value = $(field).value.trim();
    if (value) address[field] = value; // optional fields are left out, not sent empty
  }
  const method = detailsForm.querySelector("input[name=shipping_method]:checked");
  return { email: $("email").value.trim(), shipping_address: address, shipping_method: method ? method.value : null };
}

detailsForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const region = $("checkout-notice");
  const button = $("to-payment");
  clear(region);
  markInvalid(null);
  const changes = details();
  if (!changes.shipping_method) {
    showError(region, { code: "invalid_request", message: "Choose a shipping method." });
    markInvalid("shipping_method");
    return;
  }
  setBusy(button, true, "Placing your order…");
  try {
    render(await api.updateCart(cart.id, changes));
    const checkout = await api.checkout(cart.id);
    pendingCheckout.set(checkout);
    location.assign("checkout.html");
  } catch (error) {
    showError(region, error, lineTitle);
    markInvalid(error.param);
    setBusy(button, false);
  }
});

$("new-cart").addEventListener("click", () => {
  cartId.clear();
  pendingCheckout.clear();
  render(null);
});

// --- start ---------------------------------------------------------------------------------------

/** `cart.html?restore=<token>` (the abandoned-cart email's link) brings that cart back. */
async function restoreFromLink() {
  const params = new URLSearchParams(location.search);
  const token = params.get("restore");
  if (!token) return;
  params.delete("restore");
  history.replaceState(null, "", location.pathname + (params.size ? `?${params}` : ""));
  try {
    const restored = await api.restoreCart(token);
    if (restored && restored.id) {
      cartId.set(restored.id);
      showNotice(notice, "Welcome back: here is your cart.");
    }
  } catch {
    // an expired or foreign link: keep whatever cart this browser has
  }
}

async function start() {
  await restoreFromLink();
  try {
    render(await currentCart());
  } catch (error) {
    $("loading").hidden = true;
    showError(notice, error);
  }
}

start();
