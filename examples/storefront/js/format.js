// Money and error messages.

const formatters = new Map();

/** Minor units (cents) as money in `currency`: formatMoney(2500, "EUR") is "€25.00" in en-US. */
export function formatMoney(minor, currency) {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat(undefined, { style: "currency", currency });
    formatters.set(currency, formatter);
  }
  const digits = formatter.resolvedOptions().maximumFractionDigits; // 2 for EUR, 0 for JPY
  return formatter.format(minor / 10 ** digits);
}

/** "Only 3 left" when few are left, "Sold out" at 0, else null. */
export function stockNote(available, few = 5) {
  if (available <= 0) return "Sold out";
  if (available <= few) return `Only ${available} left`;
  return null;
}

// A title for each error code the storefront can meet; the API's own message says the details.
const TITLES = {
  out_of_stock: "Not enough stock",
  discount_unknown: "Unknown discount code",
  discount_expired: "This discount code has expired",
  discount_not_yet_valid: "This discount code is not valid yet",
  discount_minimum_not_reached: "The order is below this code's minimum",
  discount_used_up: "This discount code has been used up",
  discount_currency_mismatch: "This discount code is for another currency",
  discount_per_customer: "You have already used this discount code",
  payment_declined: "Payment declined",
  card_declined: "Payment declined",
  payment_intent_authentication_failure: "Card authentication failed",
  incomplete_number: "Card number incomplete",
  invalid_expiry_year: "Invalid expiry year",
  cart_checked_out: "This cart has already been checked out",
  cart_changed: "The cart changed meanwhile",
  too_many_lines: "Too many lines in the cart",
  unknown_sku: "This product is not available",
  unknown_shipping_method: "Unknown shipping method",
  invalid_request: "Please check the details",
  invalid_token: "This link is not valid or has expired",
  unauthenticated: "This link is not valid",
  resource_missing: "Not found",
  request_in_progress: "Still working on the previous request",
  upstream_unavailable: "A service is not available right now; please try again",
  network_error: "The shop cannot be reached",
  NotAuthorizedException: "Wrong email or password",
  UserNotFoundException: "Wrong email or password",
  UserNotConfirmedException: "Please confirm your email address first",
  email_not_verified: "Please confirm your email address first",
  sign_in_unavailable: "Sign-in is not available",
};

/**
 * {title, message, code} for an ApiError or a Stripe.js error. `lineTitle(sku, param)` names the cart
 * line of an out-of-stock answer (it has the SKU, or a param such as "lines.0.quantity") ("Limited-edition art print – A3: Only 3 of SKU PRINT-A3 are left.").
 */
export function describeError(error, lineTitle = () => null) {
  const code = error.code || error.type || "error";
  let message = error.message || "Something went wrong.";
  if (code === "out_of_stock") {
    const sku = (error.details && error.details.sku) || error.sku;
    const title = lineTitle(sku, error.param);
    if (title) message = `${title}: ${message}`;
  }
  return { title: TITLES[code] || "Something went wrong", message, code };
}
