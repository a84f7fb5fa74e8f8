import { useState, type FormEvent } from "react";
import type { CommerceClient, Image, Product, ProductIn, StockLevel } from "@commerce/client";
import { adjustStock, allProducts, stockLedger, stockLevels, type LedgerEntry } from "../admin";
import { problem } from "../api";
import { CsvTransfer } from "../components/CsvTransfer";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

// A gift card (a denomination) is never stocked: it has no on_hand to edit.
type VariantRow = { sku: string; title: string; price: string; currency: string; on_hand: string; gift_card: boolean };

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
                  if (v.gift_card) {
                    return (
                      <tr key={v.sku}>
                        <td>{v.sku}</td><td>{v.title}</td><td className="num">{money(v.price, v.currency)}</td>
                        <td colSpan={5}>Gift card: always in stock, never shipped</td>
                      </tr>
                    );
                  }
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
    // During a sale `price` is the sale's: the form edits the regular price (`compare_at_price`).
    ? product.variants.map((v) => ({ sku: v.sku, title: v.title, currency: v.currency,
      price: ((v.compare_at_price ?? v.price) / 10 ** digits(v.currency)).toFixed(digits(v.currency)),
      on_hand: String(stock?.get(v.sku)?.on_hand ?? 0), gift_card: v.gift_card ?? false }))
    : [{ sku: "", title: "", price: "", currency: "EUR", on_hand: "0", gift_card: false }]);
  const [images, setImages] = useState<Image[]>(product?.images ?? []);
  const [error, setError] = useState("");
  const edit = (index: number, field: keyof VariantRow, value: string | boolean) =>
    setRows((all) => all.map((row, i) => (i === index ? { ...row, [field]: value } : row)));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: ProductIn = { title, description, active, variants: rows.map((r) => ({
      sku: r.sku.trim(), title: r.title, price: toMinor(r.price, r.currency), currency: r.currency,
      ...(r.gift_card ? { gift_card: true } : { on_hand: Number(r.on_hand) }) })) };
    if (product) body.images = images.map((i) => ({ id: i.id, alt: i.alt ?? "" }));
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
            <label className="inline"><input type="checkbox" checked={row.gift_card} onChange={(e) => edit(i, "gift_card", e.target.checked)} /> Gift card (no stock)</label>
            {!row.gift_card && <label>On hand <input type="number" min={0} value={row.on_hand} onChange={(e) => edit(i, "on_hand", e.target.value)} /></label>}
            {rows.length > 1 && <button type="button" onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>Remove variant {i + 1}</button>}
          </div>
        ))}
        <button type="button" onClick={() => setRows((all) => [...all, { sku: "", title: "", price: "", currency: all[0]?.currency ?? "EUR", on_hand: "0", gift_card: false }])}>
          Add variant
        </button>
      </fieldset>
      {product && <ImagesEditor client={client} productId={product.id} images={images} setImages={setImages} onError={setError} />}
      {error && <p role="alert" className="error">{error}</p>}
      <div className="row"><button type="submit">Save product</button><button type="button" onClick={onClose}>Close</button></div>
    </form>
  );
}

/** The product's images in order: upload (presigned S3 PUT), alt text, move, remove; saved with the product. */
function ImagesEditor({ client, productId, images, setImages, onError }: {
  client: CommerceClient; productId: string; images: Image[]; setImages: (images: Image[]) => void;
  onError: (text: string) => void;
}) {
  const [status, setStatus] = useState("");
  const move = (from: number, to: number) => {
    const next = [...images];
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved!);
    setImages(next);
  };
  async function upload(file: File) {
    try {
      setStatus(`Uploading ${file.name}…`);
      const type = file.type as "image/jpeg" | "image/png" | "image/webp" | "image/gif";
      const created = await client.admin.addProductImage(productId, { content_type: type, alt: "" });
      const put = await fetch(created.upload_url, { method: "PUT", body: file, headers: { "Content-Type": type } });
      if (!put.ok) throw new Error(`Upload failed: HTTP ${put.status}`);
      setImages([...images, { id: created.image_id, url: created.url, alt: "" }]);
      setStatus(`${file.name} uploaded.`);
    } catch (caught) {
      setStatus("");
      onError(problem(caught));
    }
  }
  return (
    <fieldset>
      <legend>Images</legend>
      {images.length === 0 && <p>No images yet.</p>}
      <ol className="plain images">
        {images.map((image, i) => (
          <li key={image.id} className="variant">
            <img src={image.url} alt="" width={64} height={64} />
            <label>Alt text <input value={image.alt ?? ""} onChange={(e) =>
              setImages(images.map((other, j) => (j === i ? { ...other, alt: e.target.value } : other)))} /></label>
            <button type="button" disabled={i === 0} onClick={() => move(i, i - 1)} aria-label={`Move image ${i + 1} up`}>Up</button>
            <button type="button" disabled={i === images.length - 1} onClick={() => move(i, i + 1)} aria-label={`Move image ${i + 1} down`}>Down</button>
            <button type="button" onClick={() => setImages(images.filter((_, j) => j !== i))} aria-label={`Remove image ${i + 1}`}>Remove</button>
          </li>
        ))}
      </ol>
      <label>Add an image <input type="file" accept="image/jpeg,image/png,image/webp,image/gif"
        onChange={(e) => { const file = e.target.files?.[0]; if (file) void upload(file); e.target.value = ""; }} /></label>
      <div aria-live="polite">{status && <p role="status">{status}</p>}</div>
    </fieldset>
  );
}
