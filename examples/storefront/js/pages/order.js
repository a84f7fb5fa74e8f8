// The order page (the confirmation email links here too): GET /orders/{id} with the order token,
// polled until the payment is confirmed (the webhook has arrived) or a minute has passed.
import { api } from "../api.js";
import { idToken } from "../session.js";
import { formatMoney } from "../format.js";
import { h, refreshCartCount, renderTotals, setBusy, showError, showNotice } from "../ui.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const orderId = params.get("id");
const token = params.get("token");
const TIMEOUT_MS = 60_000;

const STATUS = {
  pending_payment: "Waiting for the payment to be confirmed…",
  paid: "Paid. Thank you! A confirmation email is on its way.",
  cancelled: "This order has been cancelled.",
  needs_review: "The shop is reviewing this order's payment; it will be in touch.",
};
const PAYMENT = { pending: "Pending", paid: "Paid", partially_refunded: "Partially refunded", refunded: "Refunded",
                  failed: "Failed (you can try again)" };
const FULFILMENT = { unfulfilled: "Not shipped yet", requested: "Being prepared", partially_shipped: "Partly shipped",
                     shipped: "Shipped" };

function render(order) {
  const status = $("order-status");
  status.dataset.status = order.status;
  status.className = `status ${order.status}`;
  status.textContent = STATUS[order.status] || order.status;
  $("order-id").textContent = order.id;
  $("order-created").textContent = new Date(order.created_at).toLocaleString();
  $("order-email").textContent = order.email || "";
  $("order-payment").textContent = PAYMENT[order.payment_status] || order.payment_status;
  // An order of gift cards only has nothing to ship: its cards' email is the delivery.
  const eCardsOnly = order.lines.every((line) => line.gift_card);
  $("order-fulfilment").textContent = eCardsOnly && order.fulfilment_status === "shipped" ? "Sent by email"
    : FULFILMENT[order.fulfilment_status] || order.fulfilment_status;
  $("order-lines").replaceChildren(...order.lines.map((line) =>
    h("li", { class: "line" },
      h("div", { class: "line-main" }, h("p", { class: "line-title" }, line.title),
        h("p", { class: "muted" }, `${line.quantity} × ${formatMoney(line.unit_price, order.currency)}`)),
      h("p", { class: "line-total" }, line.line_total ? formatMoney(line.line_total, order.currency) : "Free"))));
  renderTotals($("totals"), order, formatMoney);
  const METHODS = { stripe: "Card", gift_card: "Gift card", store_credit: "Store credit", invoice: "Invoice" };
  for (const part of (order.payments || []).filter((p) => p.method !== "stripe" || order.payments.length > 1)) {
    const label = `${METHODS[part.method] || part.method}${part.last4 ? ` …${part.last4}` : ""}`;
    $("totals").append(h("dt", {}, label), h("dd", {}, formatMoney(part.amount, order.currency)));
  }
  if (order.amount_refunded) {
    $("totals").append(h("dt", {}, "Refunded"), h("dd", {}, formatMoney(order.amount_refunded, order.currency)));
  }
  const address = order.shipping_address || {};
  $("order-address").replaceChildren(...[address.name, address.line1, address.line2,
    [address.postal_code, address.city].filter(Boolean).join(" "), address.region, address.country]
    .filter(Boolean).flatMap((part, index) => (index ? [h("br"), part] : [part])));
  $("order-method").textContent = order.shipping_method ? `Shipping: ${order.shipping_method}` : "";
  $("shipments").replaceChildren(...(order.shipments || []).map((shipment) =>
    h("li", {}, `${shipment.carrier}: tracking number ${shipment.tracking_number}`)));
  $("loading").hidden = true;
  $("order").hidden = false;
}

const RETURN_STATUS = { requested: "Requested: the shop will answer by email", approved: "Approved: send the items back",
                        rejected: "Not accepted", received: "Received by the shop", refunded: "Settled" };

/** A shipped order's returns, and a small form to ask for one (quantities per shipped line, one reason). */
async function renderReturns(order) {
  const shipped = {};
  for (const shipment of order.shipments || []) {
    for (const line of shipment.lines) shipped[line.sku] = (shipped[line.sku] || 0) + line.quantity;
  }
  if (!Object.keys(shipped).length) return;
  const found = await api.listReturns(orderId, token);
  $("returns").hidden = false;
  $("return-list").replaceChildren(...found.data.map((ret) => h("li", {},
    `${ret.number || "Return request"}: ${ret.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")} — `
    + `${RETURN_STATUS[ret.status] || ret.status}${ret.message ? ` (${ret.message})` : ""}`)));
  const titles = Object.fromEntries(order.lines.map((line) => [line.sku, line.title]));
  $("return-lines").replaceChildren(...Object.entries(shipped).map(([sku, quantity]) => h("label", {},
    `${titles[sku] || sku} `, h("input", { type: "number", min: "0", max: String(quantity), value: "0", "data-sku": sku }))));
}

async function askForReturn(event) {
  event.preventDefault();
  const reason = $("return-reason").value;
  const lines = [...$("return-lines").querySelectorAll("input")]
    .map((input) => ({ sku: input.dataset.sku, quantity: Number(input.value), reason }))
    .filter((line) => line.quantity > 0);
  if (!lines.length) {
    showError($("return-notice"), { code: "invalid_request", message: "Choose how many of which items to return." });
    return;
  }
  const button = $("return-submit");
  setBusy(button, true, "Sending…");
  try {
    await api.requestReturn(orderId, token, lines, $("return-comment").value.trim());
    showNotice($("return-notice"), "Your return request is on its way to the shop; you will get an email.");
    const order = await api.getOrder(orderId, token);
    await renderReturns(order);
  } catch (error) {
    showError($("return-notice"), error);
  } finally {
    setBusy(button, false);
  }
}

const UNPAID = ["requires_payment_method", "requires_confirmation", "requires_action"];

/** An order waiting for a payment nobody has made (a dearer exchange's difference): say what is due and link to
 * the pay page. True when it does (the page then stops waiting for the payment). */
async function offerPayment(order) {
  let payment;
  try {
    payment = await api.orderPayment(orderId, token);
  } catch {
    return false; // paid or closed meanwhile: the order's own status tells
  }
  if (!UNPAID.includes(payment.status)) return false;
  const due = formatMoney(payment.amount_due, payment.currency);
  $("pay-due-text").textContent = payment.exchange_of
    ? `Your exchange costs ${due} more than the items you returned. `
    : `${due} is waiting to be paid. `;
  const link = $("pay-link");
  link.textContent = payment.exchange_of ? `Pay the difference (${due})` : `Pay ${due}`;
  link.href = `pay.html?id=${encodeURIComponent(order.id)}${token ? `&token=${encodeURIComponent(token)}` : ""}`;
  $("pay-due").hidden = false;
  $("order-status").textContent = "Waiting for your payment.";
  return true;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll() {
  if (!orderId || (!token && !idToken())) {
    $("loading").hidden = true;
    showError($("notice"), { code: "invalid_request", message: "This page needs the order link from your email, or sign in." });
    return;
  }
  const started = Date.now();
  let interval = 1000;
  let asked = false;
  for (;;) {
    try {
      const order = await api.getOrder(orderId, token);
      render(order);
      if (order.status !== "pending_payment") {
        $("pay-due").hidden = true;
        await renderReturns(order).catch((error) => showError($("return-notice"), error));
        return;
      }
      if (!asked) {
        asked = true;
        if (await offerPayment(order)) return;
      }
    } catch (error) {
      $("loading").hidden = true;
      if (error.code !== "network_error" && error.code !== "upstream_unavailable") {
        showError($("notice"), error);
        return;
      }
    }
    if (Date.now() - started > TIMEOUT_MS) {
      const status = $("order-status");
      status.dataset.timedOut = "true";
      status.textContent = "The payment has not been confirmed yet. Reload this page in a few minutes.";
      return;
    }
    await sleep(interval);
    interval = Math.min(interval * 1.5, 5000);
  }
}

$("return-form").addEventListener("submit", askForReturn);
poll();
refreshCartCount();
