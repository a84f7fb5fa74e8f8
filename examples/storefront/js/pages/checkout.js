// The payment step: the checkout answer gives the order, its token, and the payment's client_secret
// and publishable key; Stripe.js confirms the card payment in the browser (card data never reaches
// our API); the webhook then marks the order paid, which the order page waits for.
import { api } from "../api.js";
import { cartId, pendingCheckout } from "../cart.js";
import { formatMoney } from "../format.js";
import { isStripeItself, loadStripe } from "../stripe.js";
import { clear, h, refreshCartCount, renderTotals, setBusy, showError, showNotice } from "../ui.js";

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

  let stripe;
  try {
    stripe = await loadStripe(payment.publishable_key);
  } catch (error) {
    $("loading").hidden = true;
    showError(notice, { code: "stripe_unavailable", message: error.message });
    return;
  }
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  card.on("change", (event) => {
    if (event && event.error) showError($("pay-notice"), event.error);
    else clear($("pay-notice"));
  });
  $("loading").hidden = true;
  $("payment").hidden = false;
  $("pay").disabled = false;

  $("pay-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("pay");
    clear($("pay-notice"));
    setBusy(button, true, "Paying…");
    const address = order.shipping_address || {};
    const { error, paymentIntent } = await stripe.confirmCardPayment(payment.client_secret, {
      payment_method: {
        card,
        billing_details: { name: address.name, email: order.email },
      },
    });
    if (error) {
      // Stripe's card_declined is our payment_declined; other codes are shown as Stripe gives them.
      const code = error.code === "card_declined" ? "payment_declined" : error.code || error.type;
      showError($("pay-notice"), { code, message: error.message });
      setBusy(button, false);
      return;
    }
    if (["succeeded", "processing", "requires_capture"].includes(paymentIntent.status)) {
      paid(checkout);
      return;
    }
    showError($("pay-notice"), { code: paymentIntent.status, message: `The payment is ${paymentIntent.status}.` });
    setBusy(button, false);
  });
}

start();
refreshCartCount();
