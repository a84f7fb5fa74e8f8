// The account page: the profile (GET /me) and the order history (GET /me/orders, newest first, paged), each
// order linking to the order page, which reads it with the bearer token.
import { api } from "../api.js";
import { cartId } from "../cart.js";
import { formatMoney } from "../format.js";
import { currentSession, signOut } from "../session.js";
import { h, refreshCartCount, setBusy, showError } from "../ui.js";

const $ = (id) => document.getElementById(id);
const STATUS = { pending_payment: "Awaiting payment", paid: "Paid", cancelled: "Cancelled", needs_review: "In review" };
let cursor = null;

function orderItem(order) {
  const count = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  return h("li", { class: "line", "data-order-id": order.id },
    h("div", { class: "line-main" },
      h("p", { class: "line-title" }, h("a", { href: `order.html?id=${encodeURIComponent(order.id)}` }, order.id)),
      h("p", { class: "muted" }, `${new Date(order.created_at).toLocaleDateString()} · ${count} item${count === 1 ? "" : "s"}`),
      h("p", { class: `order-status ${order.status}`, "data-status": order.status }, STATUS[order.status] || order.status)),
    h("p", { class: "line-total" }, formatMoney(order.total, order.currency)));
}

async function loadOrders() {
  const page = await api.myOrders(cursor);
  $("orders").append(...page.data.map(orderItem));
  cursor = page.next_cursor;
  $("more-orders").hidden = !cursor;
  $("no-orders").hidden = $("orders").children.length > 0;
}

async function start() {
  if (!currentSession()) {
    location.replace("signin.html?next=account.html");
    return;
  }
  try {
    const me = await api.me();
    $("account-email").textContent = me.email;
    $("account-name").textContent = me.name || "—";
    await loadOrders();
  } catch (error) {
    $("loading").hidden = true;
    if (error.code === "unauthenticated") signOut();
    showError($("notice"), error);
    return;
  }
  $("loading").hidden = true;
  $("account").hidden = false;
}

$("more-orders").addEventListener("click", async (event) => {
  setBusy(event.target, true, "Loading…");
  try {
    await loadOrders();
  } catch (error) {
    showError($("notice"), error);
  }
  setBusy(event.target, false);
});

$("signout").addEventListener("click", () => {
  signOut();
  cartId.clear(); // the account's cart is not for whoever uses this browser next
  location.assign("index.html");
});

start();
refreshCartCount();
