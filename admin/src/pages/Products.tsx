import { useState, type FormEvent } from "react";
import type { CommerceClient, Product, ProductIn, StockLevel } from "@commerce/client";
import { adjustStock, allProducts, stockLedger, stockLevels, type LedgerEntry } from "../admin";
import { problem } from "../api";
import { CsvTransfer } from "../components/CsvTransfer";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

type VariantRow = { sku: string; title: string; price: string; currency: string; on_hand: string };

export function Products({ client }: { client: CommerceClient }) {
  const can = useCan();
  const loaded = useLoad(async () => {
    const products = await allProducts(client);
    const levels = await stockLevels(client, products.flatMap((p) => p.variants.map((v) => v.sku)));
    return { products, stock: new Map(levels.map((s) => [s.sku, s])) };
  }, [client]);
  const [editing, setEditing] = useState<Product | "new" | null>(null);
  const [message, setMessage] = useState("");

  return (
    <>
      <div className="row spread">
        <h1>Products and inventory</h1>
        {can("products:write") && <button type="button" onClick={() => setEditing("new")}>New product</button>}
      </div>
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {can("products:write") && <CsvTransfer client={client} onImported={(text) => { setMessage(text); loaded.reload(); }} />}
      {editing && (
        <ProductForm client={client} product={editing === "new" ? null : editing} stock={loaded.data?.stock}
          onDone={(text) => { setEditing(null); setMessage(text); loaded.reload(); }} onClose={() => setEditing(null)} />
      )}
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {!loaded.data && !loaded.error && <p>Loading…</p>}
      {loaded.data?.products.map((p) => (
        <section key={p.id} className="card" aria-labelledby={`p-${p.id}`}>
          <div className="row spread">
            <h2 id={`p-${p.id}`}>{p.title}</h2>
            {can("products:write") && <button type="button" onClick={() => setEditing(p)} aria-label={`Edit ${p.title}`}>Edit</button>}
          </div>
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">SKU</th><th scope="col">Variant</th><th scope="col">Price</th><th scope="col">On hand</th>
                <th scope="col">Reserved</th><th scope="col">Available</th><th scope="col">Low at</th><th scope="col">Adjust</th></tr></thead>
              <tbody>
                {p.variants.map((v) => {
                  const s = loaded.data!.stock.get(v.sku);
                  const low = s && s.low_stock_threshold != null && s.available <= s.low_stock_threshold;
                  return (
                    <tr key={v.sku} className={low ? "low" : undefined}>
                      <td>{v.sku}</td><td>{v.title}</td><td className="num">{money(v.price, v.currency)}</td>
                      <td className="num">{s?.on_hand}</td><td className="num">{s?.reserved}</td>
                      <td className="num">{s?.available}{low && <span className="sr-only"> (low)</span>}</td>
                      <td className="num">{s?.low_stock_threshold ?? "—"}</td>
                      <td>{s && can("stock:write") && <StockForm client={client} level={s} onDone={(text) => { setMessage(text); loaded.reload(); }} />}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}

function StockForm({ client, level, onDone }: { client: CommerceClient; level: StockLevel; onDone: (text: string) => void }) {
  const [onHand, setOnHand] = useState(String(level.on_hand));
  const [threshold, setThreshold] = useState(level.low_stock_threshold == null ? "" : String(level.low_stock_threshold));
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [history, setHistory] = useState<LedgerEntry[] | null>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const body = { on_hand: Number(onHand), reason: reason.trim() || "stock count" };
      await adjustStock(client, level.sku, threshold === "" ? body : { ...body, low_stock_threshold: Number(threshold) });
      setError("");
      setReason("");
      onDone(`Stock of ${level.sku} saved.`);
    } catch (caught) {
      setError(problem(caught));
    }
  }
  async function showHistory() {
    try {
      setHistory(await stockLedger(client, level.sku));
    } catch (caught) {
      setError(problem(caught));
    }
  }
  return (
    <form className="stock" onSubmit={submit}>
      <label>On hand <input type="number" min={0} value={onHand} onChange={(e) => setOnHand(e.target.value)} aria-label={`On hand of ${level.sku}`} /></label>
      <label>Low at <input type="number" min={0} value={threshold} onChange={(e) => setThreshold(e.target.value)} aria-label={`Low-stock threshold of ${level.sku}`} /></label>
      <label>Reason <input value={reason} placeholder="stock count" onChange={(e) => setReason(e.target.value)} aria-label={`Reason for ${level.sku}`} /></label>
      <button type="submit" aria-label={`Save stock of ${level.sku}`}>Save</button>
      <button type="button" onClick={() => void showHistory()} aria-label={`Stock history of ${level.sku}`}>History</button>
      {error && <span className="error" role="alert">{error}</span>}
      {history && (
        <ul className="plain ledger" aria-label={`Stock ledger of ${level.sku}`}>
          {history.length === 0 && <li>No adjustments yet.</li>}
          {history.map((e) => (
            <li key={e.id}>{when(e.at)}: {e.before.on_hand} → {e.after.on_hand} ({e.reason}, {e.actor})</li>
          ))}
        </ul>
      )}
    </form>
  );
}

function ProductForm({ client, product, stock, onDone, onClose }: {
  client: CommerceClient; product: Product | null; stock: Map<string, StockLevel> | undefined;
  onDone: (text: string) => void; onClose: () => void;
}) {
  const digits = (currency: string) => money(0, currency).replace(/[^0-9]/g, "").length - 1;
  const [title, setTitle] = useState(product?.title ?? "");
  const [description, setDescription] = useState(product?.description ?? "");
  const [active, setActive] = useState(product?.active ?? true);
  const [rows, setRows] = useState<VariantRow[]>(() => product
    ? product.variants.map((v) => ({ sku: v.sku, title: v.title, currency: v.currency,
      price: (v.price / 10 ** digits(v.currency)).toFixed(digits(v.currency)), on_hand: String(stock?.get(v.sku)?.on_hand ?? 0) }))
    : [{ sku: "", title: "", price: "", currency: "EUR", on_hand: "0" }]);
  const [error, setError] = useState("");
  const edit = (index: number, field: keyof VariantRow, value: string) =>
    setRows((all) => all.map((row, i) => (i === index ? { ...row, [field]: value } : row)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: ProductIn = { title, description, active, variants: rows.map((r) => ({
      sku: r.sku.trim(), title: r.title, price: toMinor(r.price, r.currency), currency: r.currency, on_hand: Number(r.on_hand) })) };
    try {
      if (product) await client.admin.updateProduct(product.id, body);
      else await client.admin.createProduct(body);
      onDone(`${title} saved.`);
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <form className="card editor" onSubmit={submit} aria-labelledby="editor-title">
      <h2 id="editor-title">{product ? `Edit ${product.title}` : "New product"}</h2>
      <label htmlFor="product-title">Title</label>
      <input id="product-title" required value={title} onChange={(e) => setTitle(e.target.value)} />
      <label htmlFor="product-description">Description</label>
      <textarea id="product-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <label className="inline"><input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active (shown in the shop)</label>
      <fieldset>
        <legend>Variants</legend>
        {rows.map((row, i) => (
          <div key={i} className="variant">
            <label>SKU <input required value={row.sku} onChange={(e) => edit(i, "sku", e.target.value)} /></label>
            <label>Name <input value={row.title} onChange={(e) => edit(i, "title", e.target.value)} /></label>
            <label>Price <input required inputMode="decimal" value={row.price} onChange={(e) => edit(i, "price", e.target.value)} /></label>
            <label>Currency <select value={row.currency} onChange={(e) => edit(i, "currency", e.target.value)}>
              {["EUR", "USD", "GBP"].map((c) => <option key={c}>{c}</option>)}</select></label>
            <label>On hand <input type="number" min={0} value={row.on_hand} onChange={(e) => edit(i, "on_hand", e.target.value)} /></label>
            {rows.length > 1 && <button type="button" onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>Remove variant {i + 1}</button>}
          </div>
        ))}
        <button type="button" onClick={() => setRows((all) => [...all, { sku: "", title: "", price: "", currency: all[0]?.currency ?? "EUR", on_hand: "0" }])}>
          Add variant
        </button>
      </fieldset>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="row"><button type="submit">Save product</button><button type="button" onClick={onClose}>Close</button></div>
    </form>
  );
}
