// Paying an order that waits for its payment: the difference of a dearer exchange (the return's email and the
// order page link here with the order's id and token). GET /orders/{id}/payment gives the client secret, the
// provider's status and the amount due; Stripe.js confirms the card payment in the browser as on the checkout
// page; the webhook then marks the order paid, which the order page waits for.
import { api } from "../api.js";
import { idToken } from "../session.js";
import { formatMoney } from "../format.js";
import { isStripeItself, PAID, payByCard } from "../stripe.js";
import { h, refreshCartCount, renderTotals, showError, showNotice } from "../ui.js";

const $ = (id) => document.getElementById(id);
const notice = $("notice");
const params = new URLSearchParams(location.search);
const orderId = params.get("id");
const token = params.get("token");

const orderUrl = () => `order.html?id=${encodeURIComponent(orderId)}${token ? `&token=${encodeURIComponent(token)}` : ""}`;

function renderSummary(order, payment) {
  $("order-id").textContent = order.id;
  $("pay-reason").textContent = payment.exchange_of
    ? `Your exchange costs more than the items you returned: ${formatMoney(payment.amount_due, payment.currency)} is left to pay.`
    : `${formatMoney(payment.amount_due, payment.currency)} is left to pay.`;
  $("summary-lines").replaceChildren(...order.lines.map((line) =>
    h("li", {}, `${line.quantity} × ${line.title}`, h("span", { class: "price" }, formatMoney(line.line_total, order.currency)))));
  renderTotals($("totals"), order, formatMoney);
}

async function start() {
  $("back").href = orderUrl();
  if (!orderId || (!token && !idToken())) {
    $("loading").hidden = true;
    showError(notice, { code: "invalid_request", message: "This page needs the payment link from your email, or sign in." });
    return;
  }
  let order;
  let payment;
  try {
    [order, payment] = await Promise.all([api.getOrder(orderId, token), api.orderPayment(orderId, token)]);
  } catch (error) {
    $("loading").hidden = true;
    if (error.code === "invalid_state") {
      showNotice(notice, "There is nothing left to pay on this order.", "info");
      notice.append(h("p", {}, h("a", { href: orderUrl() }, "See your order")));
      return;
    }
    showError(notice, error);
    return;
  }
  if (PAID.includes(payment.status)) {
    location.assign(orderUrl()); // paid already: the order page waits for the confirmation
    return;
  }
  if (payment.exchange_of) $("pay-title").textContent = "Pay the difference";
  renderSummary(order, payment);
  $("pay").textContent = `Pay ${formatMoney(payment.amount_due, payment.currency)}`;
  $("test-mode").hidden = isStripeItself();

  await payByCard(payment, order, notice, () => location.assign(orderUrl()));
}

start();
refreshCartCount();
