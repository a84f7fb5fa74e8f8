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

// Type-ahead: GET /search as the shopper types (debounced); the last word counts as a prefix, and a
// typo in a longer word is forgiven. An empty box shows the whole listing again.
const box = document.getElementById("q");
let typing = null;
let asked = 0;

async function search(q) {
  const ask = ++asked;
  try {
    const found = await api.search(q);
    if (ask !== asked) return; // a later keystroke's answer wins
    list.replaceChildren(...found.data.filter((product) => product.variants.length).map(card));
    more.hidden = true;
    notice.textContent = found.data.length ? "" : `Nothing found for “${q}”.`;
  } catch (error) {
    if (ask === asked) showError(notice, error);
  }
}

box.addEventListener("input", () => {
  clearTimeout(typing);
  const q = box.value.trim() ? box.value : "";
  typing = setTimeout(() => {
    if (q) return search(q);
    asked += 1;
    list.replaceChildren();
    notice.textContent = "";
    cursor = null;
    return load();
  }, 200);
});

more.addEventListener("click", load);
load();
refreshCartCount();
