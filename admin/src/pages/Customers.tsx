import { useState, type FormEvent } from "react";
import type { CommerceClient } from "@commerce/client";
import type { AdminCustomer } from "../admin";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, when } from "../format";

function lifetime(values: Record<string, number>): string {
  const shown = Object.entries(values).map(([currency, amount]) => money(amount, currency));
  return shown.length ? shown.join(", ") : "—";
}

export function Customers({ client }: { client: CommerceClient }) {
  const [segment, setSegment] = useState("");
  const [email, setEmail] = useState("");
  const [query, setQuery] = useState<{ segment?: string; email?: string }>({});
  const segments = useLoad(() => client.admin.segmentCounts(), [client]);
  const loaded = useLoad(() => client.admin.listCustomers({
    limit: 50, ...(query.email ? { email: query.email } : {}),
    ...(query.segment ? { segment: query.segment as never, sort: "last_order" as const } : {}),
  }), [client, query]);

  function find(event: FormEvent) {
    event.preventDefault();
    setQuery({ ...(segment ? { segment } : {}), ...(email.trim() ? { email: email.trim() } : {}) });
  }

  return (
    <>
      <h1>Customers</h1>
      {segments.data && (
        <ul className="segments" aria-label="Customers per segment">
          {segments.data.data.map((s) => <li key={s.id}><strong>{s.count}</strong> {s.id}</li>)}
        </ul>
      )}
      <form className="row" role="search" aria-label="Find customers" onSubmit={find}>
        <label>Segment <select value={segment} onChange={(e) => setSegment(e.target.value)}>
          <option value="">all</option>
          {(segments.data?.data ?? []).map((s) => <option key={s.id} value={s.id}>{s.id}</option>)}
        </select></label>
        <label>Email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <button type="submit">Find</button>
      </form>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Email</th><th scope="col">Segment</th><th scope="col">Orders</th>
              <th scope="col">Lifetime value</th><th scope="col">Last order</th><th scope="col">Tags</th></tr></thead>
            <tbody>
              {loaded.data.data.map((c: AdminCustomer) => (
                <tr key={c.id}>
                  <td><a href={`#/customers/${c.id}`}>{c.email}</a></td>
                  <td>{c.segment}</td>
                  <td className="num">{c.orders_count}</td>
                  <td>{lifetime(c.lifetime_value)}</td>
                  <td>{when(c.last_order_at)}</td>
                  <td>{(c.tags ?? []).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {loaded.data.data.length === 0 && <p>No customers.</p>}
        </div>
      )}
    </>
  );
}

export function CustomerDetail({ client, customerId }: { client: CommerceClient; customerId: string }) {
  const can = useCan();
  const loaded = useLoad(() => client.admin.getCustomer(customerId), [client, customerId]);
  const [note, setNote] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  async function save(event: FormEvent) {
    event.preventDefault();
    try {
      await client.admin.annotateCustomer(customerId, { note: note ?? "" });
      setError("");
      setMessage("Note saved.");
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  if (loaded.error) return <><h1>Customer</h1><p role="alert" className="error">{loaded.error}</p></>;
  const c = loaded.data;
  if (!c) return <p>Loading…</p>;
  return (
    <>
      <p><a href="#/customers">← Customers</a></p>
      <h1>{c.email}</h1>
      <dl className="pairs card">
        <dt>Segment</dt><dd>{c.segment}</dd>
        <dt>Orders</dt><dd>{c.orders_count}</dd>
        <dt>Lifetime value</dt><dd>{lifetime(c.lifetime_value)}</dd>
        <dt>First order</dt><dd>{when(c.first_order_at)}</dd>
        <dt>Tags</dt><dd>{(c.tags ?? []).join(", ") || "—"}</dd>
        <dt>Note</dt><dd>{c.note || "—"}</dd>
      </dl>
      {can("customers:write") && (
        <form className="card" onSubmit={save} aria-labelledby="note-title">
          <h2 id="note-title">Internal note</h2>
          <label htmlFor="customer-note">Note</label>
          <textarea id="customer-note" maxLength={2000} value={note ?? c.note ?? ""} onChange={(e) => setNote(e.target.value)} />
          <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit">Save note</button>
        </form>
      )}
      <section className="card" aria-labelledby="orders-title">
        <h2 id="orders-title">Orders</h2>
        <ul>
          {c.orders.map((o) => (
            <li key={o.id}><a href={`#/orders/${o.id}`} className="mono">{o.id}</a> {when(o.created_at)} {money(o.total, o.currency)} {o.status}</li>
          ))}
        </ul>
      </section>
    </>
  );
}
