import { useState, type FormEvent } from "react";
import type { CommerceClient, SaleIn } from "@commerce/client";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

type Scope = "skus" | "category" | "collection";

/** A datetime-local value (the browser's time zone) as an ISO 8601 UTC string. */
const utc = (local: string) => new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z");

export function Sales({ client }: { client: CommerceClient }) {
  const can = useCan();
  const loaded = useLoad(() => client.admin.listSales({ limit: 100 }), [client]);
  const [name, setName] = useState("");
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [kind, setKind] = useState<"percent" | "fixed">("percent");
  const [value, setValue] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [scope, setScope] = useState<Scope>("skus");
  const [target, setTarget] = useState("");
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: SaleIn = {
      name, starts_at: utc(startsAt), ends_at: utc(endsAt), kind,
      value: kind === "percent" ? Number(value) : toMinor(value, currency),
      ...(kind === "fixed" ? { currency } : {}),
      ...(scope === "skus" ? { skus: target.split(/[\s,]+/).filter(Boolean) } : { [scope]: target.trim() }),
    };
    try {
      await client.admin.createSale(body);
      setError("");
      setMessage(`${name} scheduled.`);
      setName(""); setValue(""); setTarget("");
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Sales</h1>
      {can("sales:write") && <form className="card" onSubmit={submit} aria-labelledby="new-sale">
        <h2 id="new-sale">New sale</h2>
        <p>Prices drop at the start and come back at the end by themselves (within a minute). When sales overlap, the best price wins.</p>
        <div className="filters">
          <label>Name <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label>Starts <input required type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} /></label>
          <label>Ends <input required type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} /></label>
          <label>Kind <select value={kind} onChange={(e) => setKind(e.target.value as "percent" | "fixed")}>
            <option value="percent">percent off</option><option value="fixed">amount off</option></select></label>
          <label>{kind === "percent" ? "Percent" : "Amount"} <input required inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} /></label>
          {kind === "fixed" && <label>Currency <select value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {["EUR", "USD", "GBP"].map((c) => <option key={c}>{c}</option>)}</select></label>}
          <label>Applies to <select value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            <option value="skus">SKUs</option><option value="category">a category</option><option value="collection">a collection</option></select></label>
          <label>{scope === "skus" ? "SKUs (comma-separated)" : `${scope[0]!.toUpperCase()}${scope.slice(1)} slug`}
            <input required value={target} onChange={(e) => setTarget(e.target.value)} /></label>
        </div>
        {error && <p role="alert" className="error">{error}</p>}
        <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
        <button type="submit">Schedule</button>
      </form>}
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col">Reduction</th><th scope="col">Applies to</th>
              <th scope="col">From</th><th scope="col">Until</th><th scope="col">Status</th></tr></thead>
            <tbody>
              {loaded.data.data.length === 0 && <tr><td colSpan={6}>No sales yet.</td></tr>}
              {loaded.data.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.kind === "percent" ? `${s.value} %` : money(s.value, s.currency ?? "EUR")}</td>
                  <td>{s.skus ? s.skus.join(", ") : s.category ? `category ${s.category}` : `collection ${s.collection}`}</td>
                  <td>{when(s.starts_at)}</td><td>{when(s.ends_at)}</td><td>{s.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
