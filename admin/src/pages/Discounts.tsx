import { useState, type FormEvent } from "react";
import type { CommerceClient, DiscountIn } from "@commerce/client";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

export function Discounts({ client }: { client: CommerceClient }) {
  const can = useCan();
  const loaded = useLoad(() => client.admin.listDiscounts({ limit: 100 }), [client]);
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"percent" | "fixed">("percent");
  const [value, setValue] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [limit, setLimit] = useState("");
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: DiscountIn = kind === "percent"
      ? { code, kind, value: Number(value) }
      : { code, kind, value: toMinor(value, currency), currency };
    if (limit) body.usage_limit = Number(limit);
    try {
      await client.admin.createDiscount(body);
      setError("");
      setMessage(`${code.toUpperCase()} created.`);
      setCode(""); setValue(""); setLimit("");
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function disable(code: string) {
    if (!window.confirm(`Disable ${code}? Carts and checkout refuse it from now on.`)) return;
    try {
      await client.admin.disableDiscount(code);
      setError("");
      setMessage(`${code} disabled.`);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  const now = new Date().toISOString();
  return (
    <>
      <h1>Discounts</h1>
      {can("discounts:write") && <form className="card" onSubmit={submit} aria-labelledby="new-discount">
        <h2 id="new-discount">New discount code</h2>
        <div className="filters">
          <label>Code <input required value={code} onChange={(e) => setCode(e.target.value)} /></label>
          <label>Kind <select value={kind} onChange={(e) => setKind(e.target.value as "percent" | "fixed")}>
            <option value="percent">percent off</option><option value="fixed">amount off</option></select></label>
          <label>{kind === "percent" ? "Percent" : "Amount"} <input required inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} /></label>
          {kind === "fixed" && <label>Currency <select value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {["EUR", "USD", "GBP"].map((c) => <option key={c}>{c}</option>)}</select></label>}
          <label>Usage limit <input type="number" min={1} value={limit} onChange={(e) => setLimit(e.target.value)} /></label>
        </div>
        {error && <p role="alert" className="error">{error}</p>}
        <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
        <button type="submit">Create</button>
      </form>}
      {!can("discounts:write") && (error || message) && <p role="status">{error || message}</p>}
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Code</th><th scope="col">Discount</th><th scope="col">Used</th><th scope="col">Limit</th>
              <th scope="col">Valid</th><th scope="col">Created</th><th scope="col">State</th></tr></thead>
            <tbody>
              {loaded.data.data.map((d) => (
                <tr key={d.id}>
                  <td className="mono">{d.code}</td>
                  <td>{d.kind === "percent" ? `${d.value} %` : money(d.value, d.currency ?? "EUR")}</td>
                  <td className="num">{d.times_used}</td>
                  <td className="num">{d.usage_limit ?? "—"}</td>
                  <td>{d.starts_at || d.ends_at ? `${when(d.starts_at)} – ${when(d.ends_at)}` : "always"}</td>
                  <td>{when(d.created_at)}</td>
                  <td>{d.disabled_at ? `disabled ${when(d.disabled_at)}` : d.ends_at && d.ends_at <= now ? "ended"
                    : can("discounts:write")
                      ? <button type="button" onClick={() => void disable(d.code)} aria-label={`Disable ${d.code}`}>Disable</button>
                      : "active"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
