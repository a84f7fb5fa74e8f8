import { api } from "../api.js";
import { formatMoney, stockNote } from "../format.js";
import { h, refreshCartCount, showError } from "../ui.js";

const list = document.getElementById("products");
const more = document.getElementById("more");
const notice = document.getElementById("notice");
let cursor = null;

function priceLabel(product) {
  const prices = product.variants.map((variant) => variant.price);
  const lowest = Math.min(...prices);
  const money = formatMoney(lowest, product.variants[0].currency);
  return prices.some((price) => price !== lowest) ? `from ${money}` : money;
}

function card(product) {
  const href = `product.html?id=${encodeURIComponent(product.id)}`;
  const available = product.variants.reduce((sum, variant) => sum + Math.max(variant.available, 0), 0);
  const note = stockNote(available);
  return h("li", { class: "card", "data-product-id": product.id },
    h("h2", {}, h("a", { href }, product.title)),
    h("p", { class: "description" }, product.description),
    h("p", { class: "price" }, priceLabel(product)),
    note ? h("p", { class: available ? "stock low" : "stock out" }, note) : null,
  );
}

async function load() {
  try {
    const page = await api.listProducts(cursor);
    list.append(...page.data.filter((product) => product.variants.length).map(card));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) notice.textContent = "No products yet.";
  } catch (error) {
    showError(notice, error);
  } finally {
    document.getElementById("loading").hidden = true;
  }
}

more.addEventListener("click", load);
load();
refreshCartCount();
