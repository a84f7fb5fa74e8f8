import { api } from "../api.js";
import { formatMoney, stockNote } from "../format.js";
import { h, refreshCartCount, showError } from "../ui.js";

const list = document.getElementById("products");
const more = document.getElementById("more");
const notice = document.getElementById("notice");
const heading = document.getElementById("heading");
const sortBox = document.getElementById("sort");
let cursor = null;

// The page's category (index.html?category=<slug>) and order (&sort=newest|price_asc|price_desc|title):
// GET /products?category=&sort= lists them. Without a category and sort, the whole catalogue as listed.
const params = new URLSearchParams(location.search);
const category = params.get("category") || null;
let sort = params.get("sort") || (category ? "newest" : "");
sortBox.value = sort;

function pageUrl(slug, order = sort) {
  const query = new URLSearchParams();
  if (slug) query.set("category", slug);
  if (order) query.set("sort", order);
  const text = query.toString();
  return `index.html${text ? `?${text}` : ""}`;
}

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

let listing = 0; // bumped when the listing starts over: an earlier page's answer is then dropped

async function load() {
  const mine = listing;
  try {
    const page = await api.listProducts(cursor, { category, sort });
    if (mine !== listing) return;
    list.append(...page.data.filter((product) => product.variants.length).map(card));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) notice.textContent = category ? "No products in this category yet." : "No products yet.";
  } catch (error) {
    if (mine === listing) showError(notice, error);
  } finally {
    document.getElementById("loading").hidden = true;
  }
}

function reload() {
  asked += 1; // an answer to an earlier search no longer counts
  listing += 1;
  list.replaceChildren();
  notice.textContent = "";
  cursor = null;
  return load();
}

// Category navigation: GET /categories (the tree), each category a link to its page in the chosen order.
function link(slug, title, attrs = {}) {
  return h("a", { href: pageUrl(slug), "data-category": slug || "", ...attrs }, title);
}

function relink() {
  for (const anchor of document.querySelectorAll("a[data-category]")) anchor.href = pageUrl(anchor.dataset.category || null);
}

function branch(nodes) {
  return h("ul", {}, nodes.map((node) => h("li", {},
    link(node.slug, node.title, { "aria-current": node.slug === category ? "page" : null }),
    node.children && node.children.length ? branch(node.children) : null)));
}

async function showCategories() {
  const nav = document.getElementById("categories");
  try {
    const tree = await api.categories();
    if (!tree.data.length) return;
    const all = h("li", {}, link(null, "All products", { "aria-current": category ? null : "page" }));
    const root = branch(tree.data);
    root.prepend(all);
    nav.replaceChildren(root);
    nav.hidden = false;
  } catch {
    // navigation is a nicety: the products still show
  }
}

// Breadcrumbs: GET /categories/{slug}/breadcrumbs, the path from the root down to this category.
async function showBreadcrumbs() {
  if (!category) return true;
  const nav = document.getElementById("breadcrumbs");
  let path;
  try {
    path = (await api.breadcrumbs(category)).data;
  } catch (error) {
    heading.textContent = "No such category";
    showError(notice, error);
    document.getElementById("loading").hidden = true;
    return false;
  }
  const current = path[path.length - 1];
  nav.querySelector("ol").replaceChildren(
    h("li", {}, link(null, "All products")),
    ...path.slice(0, -1).map((node) => h("li", {}, link(node.slug, node.title))),
    h("li", { "aria-current": "page" }, current.title),
  );
  nav.hidden = false;
  heading.textContent = current.title;
  document.title = `${current.title} · Demo shop`;
  return true;
}

// Type-ahead: GET /search as the shopper types (debounced), within the page's category; the last word
// counts as a prefix (from its second letter), and a typo in a longer word is forgiven. An empty box
// (or one letter) shows the listing again.
const box = document.getElementById("q");
let typing = null;
let asked = 0;

async function search(q) {
  const ask = ++asked;
  listing += 1; // a listing page still on its way is not appended to the search's results
  try {
    const found = await api.search(q, 12, category);
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
  const q = box.value.trim().length >= 2 ? box.value : ""; // one letter would match too much to be useful
  typing = setTimeout(() => (q ? search(q) : reload()), 200);
});

sortBox.addEventListener("change", () => {
  sort = sortBox.value;
  history.replaceState(null, "", pageUrl(category));
  relink();
  if (box.value.trim()) return search(box.value);
  return reload();
});

more.addEventListener("click", load);
showCategories();
showBreadcrumbs().then((found) => (found ? load() : null));
refreshCartCount();
