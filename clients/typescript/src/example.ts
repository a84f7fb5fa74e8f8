/**
 * A storefront's purchase flow against the typed client. It exists to be type-checked (`npm run typecheck`):
 * when the API changes a path, a field or an error code this flow relies on, the check fails. It also runs:
 *
 *     npm run build && node dist/example.js http://127.0.0.1:8000
 *     node dist/example.js http://127.0.0.1:8000 "$(../../.venv/bin/python -m tools.token)"   # signed in
 */
import {
  type Address, type Cart, CommerceApiError, type Checkout, type Customer, type Order, createCommerceClient,
} from "./index.js";

const ADDRESS: Address = {
  name: "Ada Lovelace",
  line1: "1 Main Street",
  city: "Berlin",
  postal_code: "10115",
  country: "DE",
};

export async function purchase(baseUrl: string): Promise<Checkout> {
  const shop = createCommerceClient(baseUrl);

  const page = await shop.listProducts({ limit: 20 });
  const variant = page.data.flatMap((product) => product.variants).find((v) => v.available >= 2);
  if (!variant) throw new Error("nothing in stock");

  let cart: Cart = await shop.createCart({ currency: variant.currency });
  cart = await shop.addLine(cart.id, { sku: variant.sku, quantity: 1 });
  cart = await shop.setQuantity(cart.id, variant.sku, 2);
  const method = cart.available_shipping_methods[0];
  if (!method) throw new Error(`no shipping method for ${cart.currency}`);
  cart = await shop.updateCart(cart.id, { email: "ada@example.com", shipping_address: ADDRESS, shipping_method: method.id });
  const subtotal: number = cart.subtotal; // money is an integer in minor units

  let checkout: Checkout;
  try {
    checkout = await shop.checkout(cart.id);
  } catch (error) {
    if (error instanceof CommerceApiError && error.code === "out_of_stock") {
      throw new Error(`${error.param ?? "a line"}: only ${error.detail?.available ?? 0} left`);
    }
    throw error;
  }
  const order = await shop.getOrder(checkout.order.id, checkout.order_token);
  console.log(`order ${order.id}: ${order.status}, ${order.total} ${order.currency} (subtotal ${subtotal}); ` +
              `pay with client_secret ${checkout.payment?.client_secret ?? "- (gift cards paid it)"}`);
  return checkout;
}

/** A signed-in customer (a Cognito ID token, e.g. `python -m tools.token`): the guest cart of a purchase kept on
 * sign-in, checked out as the customer, and the order found in the account's history. */
export async function signedInPurchase(baseUrl: string, idToken: string): Promise<Order[]> {
  const shop = createCommerceClient(baseUrl);
  const me = shop.customer(idToken);
  const customer: Customer = await me.getMe();

  const page = await shop.listProducts({ limit: 20 });
  const variant = page.data.flatMap((product) => product.variants).find((v) => v.available >= 1);
  if (!variant) throw new Error("nothing in stock");
  const guest = await shop.createCart({ currency: variant.currency });
  await shop.addLine(guest.id, { sku: variant.sku, quantity: 1 });

  let cart: Cart = await me.attachCart(guest.id); // the account's cart from now on
  const method = cart.available_shipping_methods[0];
  if (!method) throw new Error(`no shipping method for ${cart.currency}`);
  cart = await shop.updateCart(cart.id, { shipping_address: ADDRESS, shipping_method: method.id });
  const checkout = await me.checkout(cart.id, { payment_method: "pm_card_visa" });
  const order = await me.getOrder(checkout.order.id);
  const history = await me.listOrders({ limit: 5 });
  console.log(`${customer.email}: order ${order.id} (${order.status}); ${history.data.length} order(s) in the account`);
  return history.data;
}

const [, script, baseUrl, idToken] = process.argv;
if (script && import.meta.url.endsWith(script.split("/").pop() ?? "") && baseUrl) {
  if (idToken) await signedInPurchase(baseUrl, idToken);
  else await purchase(baseUrl);
}
