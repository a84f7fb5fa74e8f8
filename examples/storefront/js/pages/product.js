import { api } from "../api.js";
import { addToCart, itemCount } from "../cart.js";
import { formatMoney, stockNote } from "../format.js";
import { clear, h, refreshCartCount, setBusy, setCartCount, showError, showNotice } from "../ui.js";

const productId = new URLSearchParams(location.search).get("id");
const notice = document.getElementById("notice");
const form = document.getElementById("add-form");
const result = document.getElementById("add-result");
const quantity = document.getElementById("quantity");
let product = null;

function variantChoice(variant, index) {
  const id = `variant-${index}`;
  const note = stockNote(variant.available) || "In stock";
  return h("div", { class: "choice" },
    h("input", { type: "radio", name: "sku", id, value: variant.sku, disabled: variant.available <= 0,
                 checked: false }),
    h("label", { for: id },
      h("span", { class: "choice-title" }, variant.title), " ",
      h("span", { class: "price" }, formatMoney(variant.price, variant.currency)), " ",
      // During a sale: the regular price, and the lowest of the 30 days before the reduction (EU Omnibus).
      variant.compare_at_price ? h("s", { class: "was" }, formatMoney(variant.compare_at_price, variant.currency)) : null,
      variant.lowest_price_30d ? h("span", { class: "omnibus" },
        ` (lowest price in the last 30 days: ${formatMoney(variant.lowest_price_30d, variant.currency)})`) : null, " ",
      h("span", { class: variant.available <= 5 ? "stock low" : "stock" }, note)),
  );
}

function render() {
  document.title = `${product.title} · Demo shop`;
  document.getElementById("title").textContent = product.title;
  document.getElementById("description").textContent = product.description;
  document.getElementById("images").replaceChildren(...(product.images || []).map((image) =>
    h("img", { src: image.url, alt: image.alt || "", loading: "lazy", width: "320" })));
  const variants = document.getElementById("variants");
  variants.replaceChildren(...product.variants.map(variantChoice));
  const first = variants.querySelector("input:not([disabled])");
  if (first) first.checked = true;
  else document.getElementById("add").disabled = true;
  document.getElementById("product").hidden = false;
}

// Breadcrumbs: the product's deepest category (the longest path from the root), each step a link to
// its category page, then the product itself.
async function breadcrumbs() {
  const paths = await Promise.all((product.categories || []).map((slug) =>
    api.breadcrumbs(slug).then((answer) => answer.data, () => [])));
  const deepest = paths.reduce((best, path) => (path.length > best.length ? path : best), []);
  document.querySelector("#breadcrumbs ol").replaceChildren(
    h("li", {}, h("a", { href: "index.html" }, "All products")),
    ...deepest.map((node) => h("li", {}, h("a", { href: `index.html?category=${encodeURIComponent(node.slug)}` },
      node.title))),
    h("li", { "aria-current": "page" }, product.title),
  );
}

async function recommendations() {
  // Another endpoint, another team: anything but a list (404, network, CORS) shows nothing.
  try {
    const answer = await api.recommendations(productId);
    const items = (answer && answer.data) || [];
    if (!items.length) return;
    document.getElementById("recommended").replaceChildren(...items.map((item) =>
      h("li", { class: "card" },
        h("h3", {}, h("a", { href: `product.html?id=${encodeURIComponent(item.id)}` }, item.title)),
        item.variants.length ? h("p", { class: "price" }, formatMoney(item.variants[0].price, item.variants[0].currency))
          : null)));
    document.getElementById("recommendations").hidden = false;
  } catch {
    // nothing to show
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clear(result);
  const chosen = form.querySelector("input[name=sku]:checked");
  const count = Number(quantity.value);
  if (!chosen) {
    showError(result, { code: "invalid_request", message: "Choose a variant first." });
    return;
  }
  if (!Number.isInteger(count) || count < 1) {
    showError(result, { code: "invalid_request", message: "The quantity must be a whole number, at least 1." });
    quantity.focus();
    return;
  }
  const variant = product.variants.find((item) => item.sku === chosen.value);
  const button = document.getElementById("add");
  setBusy(button, true, "Adding…");
  try {
    const cart = await addToCart(variant.sku, count, variant.currency);
    setCartCount(itemCount(cart));
    result.replaceChildren(h("div", { class: "notice ok", role: "status" },
      h("p", {}, `Added ${count} × ${product.title} – ${variant.title} to your cart. `,
        h("a", { href: "cart.html" }, "View cart"))));
  } catch (error) {
    showError(result, error, () => `${product.title} – ${variant.title}`);
  } finally {
    setBusy(button, false);
  }
});

async function load() {
  if (!productId) {
    showNotice(notice, "No product chosen.", "error");
    return;
  }
  try {
    product = await api.getProduct(productId);
    render();
    breadcrumbs();
    recommendations();
  } catch (error) {
    showError(notice, error);
  }
}

load();
refreshCartCount();
