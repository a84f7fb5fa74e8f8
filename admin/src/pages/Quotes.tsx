import { useState, type FormEvent } from "react";
import type { CommerceClient, Quote } from "@commerce/client";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { isoDay, money, toMajor, toMinor, when } from "../format";

type Status = "requested" | "answered" | "accepted";

/** The quotes inbox: requested quotes first; answer one with a price per line and an expiry. */
export function Quotes({ client }: { client: CommerceClient }) {
  const [status, setStatus] = useState<Status>("requested");
  const loaded = useLoad(() => client.admin.listQuotes({ status, limit: 100 }), [client, status]);
  const [open, setOpen] = useState<string | null>(null);

  return (
    <>
      <h1>Quotes</h1>
      <div className="filters">
        <label>Status <select value={status} onChange={(e) => { setStatus(e.target.value as Status); setOpen(null); }}>
          <option value="requested">requested</option><option value="answered">answered</option>
          <option value="accepted">accepted</option></select></label>
      </div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && loaded.data.data.length === 0 && <p>No {status} quotes.</p>}
      {loaded.data && loaded.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Quote</th><th scope="col">Company</th><th scope="col">Message</th>
              <th scope="col">List</th><th scope="col">Quoted</th><th scope="col">Expires</th><th scope="col">Asked</th>
              <th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {loaded.data.data.map((q) => (
                <tr key={q.id}>
                  <td className="mono">{q.id}</td>
                  <td className="mono">{q.company_id}</td>
                  <td>{q.message ?? "—"}</td>
                  <td className="num">{money(q.list_subtotal, q.currency)}</td>
                  <td className="num">{q.subtotal == null ? "—" : money(q.subtotal, q.currency)}</td>
                  <td>{when(q.expires_at)} {q.status === "expired" && "(expired)"}</td>
                  <td>{when(q.created_at)}</td>
                  <td>{q.status !== "accepted" && (
                    <button type="button" onClick={() => setOpen(open === q.id ? null : q.id)}>Answer</button>)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && loaded.data?.data.find((q) => q.id === open) && (
        <AnswerForm client={client} quote={loaded.data.data.find((q) => q.id === open)!}
                    onDone={() => { setOpen(null); loaded.reload(); }} />
      )}
    </>
  );
}

function AnswerForm({ client, quote, onDone }: { client: CommerceClient; quote: Quote; onDone: () => void }) {
  const [prices, setPrices] = useState<Record<string, string>>(() => Object.fromEntries(
    quote.lines.map((l) => [l.sku, toMajor(l.unit_price ?? l.list_price, quote.currency)])));
  const [expires, setExpires] = useState(isoDay(new Date(Date.now() + 14 * 86_400_000)));
  const [error, setError] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      await client.admin.answerQuote(quote.id, {
        lines: quote.lines.map((l) => ({ sku: l.sku, unit_price: toMinor(prices[l.sku] ?? "0", quote.currency) })),
        expires_at: `${expires}T23:59:59Z`,
      });
      onDone();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="answer-quote">
      <h2 id="answer-quote">Answer {quote.id}</h2>
      {quote.lines.map((l) => (
        <label key={l.sku}>{l.quantity} × {l.sku} {l.title} (list {money(l.list_price, quote.currency)})
          <input required inputMode="decimal" value={prices[l.sku] ?? ""}
                 onChange={(e) => setPrices({ ...prices, [l.sku]: e.target.value })} /></label>
      ))}
      <label>Expires on <input type="date" required value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit">Send answer</button>
    </form>
  );
}
