import { useState, type FormEvent } from "react";
import type { CommerceClient } from "@commerce/client";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { money, when } from "../format";

/** B2B price lists: create one for a currency and its companies, then import its tiers from CSV. */
export function PriceLists({ client }: { client: CommerceClient }) {
  const loaded = useLoad(() => client.admin.listPriceLists({ limit: 100 }), [client]);
  const companies = useLoad(() => client.admin.listCompanies({ limit: 100 }), [client]);
  const [name, setName] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [assigned, setAssigned] = useState<string[]>([]);
  const [groups, setGroups] = useState<Array<"new" | "repeat" | "vip" | "at_risk" | "lapsed">>([]);
  const [target, setTarget] = useState("");
  const [csv, setCsv] = useState("sku,min_quantity,price,sku_min_quantity,step\n");
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function create(event: FormEvent) {
    event.preventDefault();
    try {
      const created = await client.admin.createPriceList({
        name, currency, companies: assigned, customer_groups: groups, prices: [],
      });
      setError(""); setMessage(`${created.name} created (${created.id}).`);
      setName(""); setAssigned([]); setGroups([]); setTarget(created.id);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function importCsv(event: FormEvent) {
    event.preventDefault();
    try {
      const imported = await client.admin.importPriceList(target, csv);
      setError(""); setMessage(`${imported.prices.length} SKUs priced on ${imported.name}.`);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Price lists</h1>
      <form className="card" onSubmit={create} aria-labelledby="new-price-list">
        <h2 id="new-price-list">New price list</h2>
        <div className="filters">
          <label>Name <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label>Currency <select value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {["EUR", "USD", "GBP"].map((c) => <option key={c}>{c}</option>)}</select></label>
          <label>Companies <select multiple value={assigned}
            onChange={(e) => setAssigned(Array.from(e.target.selectedOptions, (o) => o.value))}>
            {companies.data?.data.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}</select></label>
          <label>Customer groups <select multiple value={groups}
            onChange={(e) => setGroups(Array.from(e.target.selectedOptions, (o) => o.value as (typeof groups)[number]))}>
            {(["new", "repeat", "vip", "at_risk", "lapsed"] as const).map((g) => <option key={g} value={g}>{g}</option>)}
          </select></label>
        </div>
        <button type="submit">Create</button>
      </form>
      <form className="card" onSubmit={importCsv} aria-labelledby="import-price-list">
        <h2 id="import-price-list">Import prices (CSV, one row per tier, prices in cents)</h2>
        <div className="filters">
          <label>Price list <select required value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose…</option>
            {loaded.data?.data.map((p) => <option key={p.id} value={p.id}>{p.name} ({p.currency})</option>)}</select></label>
          <label>CSV <textarea required rows={6} cols={60} className="mono" value={csv} onChange={(e) => setCsv(e.target.value)} /></label>
        </div>
        <button type="submit">Import</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Price list</th><th scope="col">Currency</th><th scope="col">Companies</th><th scope="col">Groups</th>
              <th scope="col">Prices</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              {loaded.data.data.map((p) => (
                <tr key={p.id}>
                  <td>{p.name} <span className="mono">{p.id}</span></td>
                  <td>{p.currency}</td>
                  <td className="num">{p.companies?.length ?? 0}</td>
                  <td>{(p.customer_groups ?? []).join(", ") || "—"}</td>
                  <td>{(p.prices ?? []).slice(0, 3).map((entry) => `${entry.sku}: ${entry.tiers
                    .map((t) => `${t.min_quantity}+ ${money(t.price, p.currency)}`).join(" / ")}`).join("; ")}
                    {(p.prices?.length ?? 0) > 3 ? ` … (${p.prices?.length})` : ""}</td>
                  <td>{when(p.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
