// Stripe.js, loaded on the payment page only. config.stripeJsUrl is Stripe's own URL in production;
// `make run` points it at localstripe's stand-in (same API: Stripe(pk).elements(), confirmCardPayment).
import config from "../config.js";
import { clear, setBusy, showError } from "./ui.js";

const STRIPE = "https://js.stripe.com/";

export function isStripeItself() {
  return config.stripeJsUrl.startsWith(STRIPE);
}

/** `Stripe(publishableKey)` once the script has loaded. */
export function loadStripe(publishableKey) {
  if (publishableKey.startsWith("pk_live_") && !isStripeItself()) {
    // Never hand real card numbers to anything but Stripe.
    return Promise.reject(new Error(`A live publishable key with Stripe.js from ${config.stripeJsUrl}: fix config.js.`));
  }
  return new Promise((resolve, reject) => {
    if (window.Stripe) {
      resolve(window.Stripe(publishableKey));
      return;
    }
    const script = document.createElement("script");
    script.src = config.stripeJsUrl;
    script.onload = () => resolve(window.Stripe(publishableKey));
    script.onerror = () => reject(new Error(`Stripe.js could not be loaded from ${config.stripeJsUrl}.`));
    document.head.append(script);
  });
}

/** What a PaymentIntent's status is once the card went through (the webhook then marks the order paid). */
export const PAID = ["succeeded", "processing", "requires_capture"];

/** The page's card form (#card-element in #payment, #pay-form, #pay, #pay-notice; #loading hidden once Stripe.js
 * is in) confirming `payment.client_secret` with the card; `onPaid()` once the provider took it. A Stripe.js
 * that does not load is shown in `notice`. Used by the checkout page and the pay page. */
export async function payByCard(payment, order, notice, onPaid) {
  const $ = (id) => document.getElementById(id);
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
      payment_method: { card, billing_details: { name: address.name, email: order.email } },
    });
    if (error) {
      // Stripe's card_declined is our payment_declined; other codes are shown as Stripe gives them.
      const code = error.code === "card_declined" ? "payment_declined" : error.code || error.type;
      showError($("pay-notice"), { code, message: error.message });
      setBusy(button, false);
      return;
    }
    if (PAID.includes(paymentIntent.status)) {
      onPaid();
      return;
    }
    showError($("pay-notice"), { code: paymentIntent.status, message: `The payment is ${paymentIntent.status}.` });
    setBusy(button, false);
  });
}
