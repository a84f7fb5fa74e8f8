// Sign-in: Cognito's InitiateAuth from the browser (session.js), then the guest cart (if any) is attached to
// the account with POST /me/carts, whose answer is the cart to keep using: the guest cart itself, or the
// account's open cart with the guest cart's lines merged in.
import { api } from "../api.js";
import { cartId } from "../cart.js";
import { currentSession, signIn, signOut } from "../session.js";
import { refreshCartCount, setBusy, showError } from "../ui.js";

const $ = (id) => document.getElementById(id);
const notice = $("notice");
// Only one of the shop's own pages, never another site (no open redirect).
const requested = new URLSearchParams(location.search).get("next") || "";
const next = /^[a-z]+\.html(\?[\w=&%.-]*)?$/.test(requested) && !requested.startsWith("signin.html")
  ? requested : "account.html";

/** Attach the guest cart; a cart that is gone or already checked out is simply forgotten. */
async function keepTheGuestCart() {
  const guest = cartId.get();
  if (!guest) return;
  try {
    const cart = await api.attachCart(guest);
    cartId.set(cart.id);
  } catch (error) {
    if (error.code !== "resource_missing" && error.code !== "cart_checked_out") throw error;
    cartId.clear();
  }
}

$("demo-hint").hidden = !["127.0.0.1", "localhost"].includes(location.hostname);
if (currentSession()) location.replace(next);

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("signin");
  setBusy(button, true, "Signing in…");
  try {
    await signIn($("email").value.trim(), $("password").value);
  } catch (error) {
    showError(notice, error);
    setBusy(button, false);
    return;
  }
  try {
    await keepTheGuestCart();
  } catch (error) {
    if (error.code === "email_not_verified" || error.code === "unauthenticated") signOut();
    showError(notice, error);
    setBusy(button, false);
    return;
  }
  location.assign(next);
});

refreshCartCount();
