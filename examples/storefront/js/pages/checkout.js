// The payment step: the checkout answer gives the order, its token, and the payment's client_secret
// and publishable key; Stripe.js confirms the card payment in the browser (card data never reaches
// our API); the webhook then marks the order paid, which the order page waits for.
import { api } from "../api.js";
import { cartId, pendingCheckout } from "../cart.js";
import { formatMoney } from "../format.js";
import { isStripeItself, payByCard } from "../stripe.js";
import { h, refreshCartCount, renderTotals, showError, showNotice } from "../ui.js";

const $ = (id) => document.getElementById(id);
const notice = $("notice");

const orderUrl = (checkout) =>
  `order.html?id=${encodeURIComponent(checkout.order.id)}&token=${encodeURIComponent(checkout.order_token)}`;

async function theCheckout() {
  const saved = pendingCheckout.get();
  if (saved) return saved;
  const id = cartId.get();
  if (!id) return null;
  // A repeat for the same cart answers the same order (API.md), so this is safe after a reload.
  const checkout = await api.checkout(id);
  pendingCheckout.set(checkout);
  return checkout;
}

function renderSummary(order) {
  $("order-id").textContent = order.id;
  $("summary-lines").replaceChildren(...order.lines.map((line) =>
    h("li", {}, `${line.quantity} × ${line.title}`, h("span", { class: "price" }, formatMoney(line.line_total, order.currency)))));
  renderTotals($("totals"), order, formatMoney);
}

function paid(checkout) {
  cartId.clear();
  pendingCheckout.clear();
  location.assign(orderUrl(checkout));
}

async function start() {
  let checkout;
  try {
    checkout = await theCheckout();
  } catch (error) {
    $("loading").hidden = true;
    showError(notice, error);
    notice.append(h("p", {}, h("a", { href: "cart.html" }, "Back to the cart")));
    return;
  }
  if (!checkout) {
    $("loading").hidden = true;
    showNotice(notice, "There is nothing to pay: your cart is empty.", "info");
    return;
  }
  const { order, payment } = checkout;
  if (!payment || payment.status === "succeeded" || order.status !== "pending_payment") {  // null: gift cards paid it all
    paid(checkout); // already paid (or no longer payable): the order page says which
    return;
  }
  renderSummary(order);
  $("pay").textContent = `Pay ${formatMoney(order.total, order.currency)}`;
  $("test-mode").hidden = isStripeItself();

  await payByCard(payment, order, notice, () => paid(checkout));
}

start();
refreshCartCount();
