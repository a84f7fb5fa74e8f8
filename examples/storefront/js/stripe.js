// Stripe.js, loaded on the payment page only. config.stripeJsUrl is Stripe's own URL in production;
// `make run` points it at localstripe's stand-in (same API: Stripe(pk).elements(), confirmCardPayment).
import config from "../config.js";

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
