import { useState } from "react";
import type { CommerceClient, Return } from "@commerce/client";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, when } from "../format";

type Status = Return["status"];
const STATUSES: Status[] = ["requested", "approved", "received", "refunded", "rejected"];

/** Returns by status, oldest first, with the step each one waits for: approve or reject a request, record
 * what arrived of an approved return (restock or write off per line), settle it (refund, credit, exchange). */
export function Returns({ client }: { client: CommerceClient }) {
  const [status, setStatus] = useState<Status>("requested");
  const loaded = useLoad(() => client.admin.listReturns({ status, limit: 100 }), [client, status]);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function act(done: string, step: () => Promise<Return>) {
    try {
      const changed = await step();
      setError("");
      setMessage(`${changed.number ?? changed.id}: ${done}.`);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Returns</h1>
      <fieldset className="filters">
        <legend>Show</legend>
        <label>Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
      </fieldset>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && loaded.data.data.length === 0 && <p>No returns {status}.</p>}
      {loaded.data?.data.map((r) => <ReturnCard key={r.id} item={r} client={client} act={act} />)}
    </>
  );
}

function ReturnCard({ item, client, act }: {
  item: Return; client: CommerceClient; act: (done: string, step: () => Promise<Return>) => Promise<void>;
}) {
  const can = useCan();
  const [note, setNote] = useState("");
  const [got, setGot] = useState<Record<string, { quantity: number; restock: boolean }>>(
    Object.fromEntries(item.lines.map((l) => [l.sku, { quantity: l.quantity, restock: true }])));
  const [exchange, setExchange] = useState("");
  const decision = note.trim() ? { message: note.trim() } : {};
  const exchangeLines = exchange.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [sku = "", quantity = "1"] = part.split(/\s*[x×]\s*/);
    return { sku, quantity: Number(quantity) || 1 };
  });
  const titleId = `return-${item.id}`;

  return (
    <section className="card" aria-labelledby={titleId}>
      <h2 id={titleId}>{item.number ?? "Return request"} <span className="mono">{item.id}</span></h2>
      <p>Order <a href={`#/orders/${item.order_id}`}>{item.order_id}</a>, asked {when(item.created_at)}
        {item.comment && <> — “{item.comment}”</>}</p>
      <table>
        <thead><tr><th scope="col">SKU</th><th scope="col">Quantity</th><th scope="col">Reason</th>
          <th scope="col">Received</th><th scope="col">Restock</th></tr></thead>
        <tbody>
          {item.lines.map((l) => (
            <tr key={l.sku}>
              <td className="mono">{l.sku}</td>
              <td className="num">{l.quantity}</td>
              <td>{l.reason.replaceAll("_", " ")}</td>
              <td className="num">{item.status === "approved" && can("returns:receive")
                ? <input aria-label={`Received of ${l.sku}`} type="number" min={0} max={l.quantity}
                    value={got[l.sku]?.quantity ?? 0}
                    onChange={(e) => setGot({ ...got, [l.sku]: { quantity: Number(e.target.value), restock: got[l.sku]?.restock ?? true } })} />
                : l.received ?? "—"}</td>
              <td>{item.status === "approved" && can("returns:receive")
                ? <input aria-label={`Restock ${l.sku}`} type="checkbox" checked={got[l.sku]?.restock ?? true}
                    onChange={(e) => setGot({ ...got, [l.sku]: { quantity: got[l.sku]?.quantity ?? 0, restock: e.target.checked } })} />
                : l.restock === null || l.restock === undefined ? "—" : l.restock ? "yes" : "written off"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {item.message && <p>Our message: {item.message}</p>}
      {item.refund && <p>Settled: {item.refund.method.replaceAll("_", " ")}
        {item.refund.order_id && <> — order <a href={`#/orders/${item.refund.order_id}`}>{item.refund.order_id}</a></>}
        {" "}({money(item.refund.amount, item.currency)})</p>}
      {can("returns:decide") && item.status === "requested" && (
        <div className="row">
          <label>Message to the customer <input value={note} onChange={(e) => setNote(e.target.value)} /></label>
          <button type="button" onClick={() => void act("approved", () => client.admin.approveReturn(item.id, decision))}>Approve</button>
          <button type="button" onClick={() => void act("rejected", () => client.admin.rejectReturn(item.id, decision))}>Reject</button>
        </div>
      )}
      {can("returns:receive") && item.status === "approved" && (
        <button type="button" onClick={() => void act("received", () => client.admin.receiveReturn(item.id, {
          lines: item.lines.map((l) => ({ sku: l.sku, quantity: got[l.sku]?.quantity ?? 0, restock: got[l.sku]?.restock ?? true })),
        }))}>Record received</button>
      )}
      {can("returns:refund") && (item.status === "approved" || item.status === "received") && (
        <div className="row">
          <button type="button" onClick={() => void act("refunded", () => client.admin.settleReturn(item.id, { method: "original" }))}>
            Refund to the original payment</button>
          <button type="button" onClick={() => void act("credited", () => client.admin.settleReturn(item.id, { method: "store_credit" }))}>
            Give store credit</button>
          <label>Exchange for <input placeholder="TEE-L x1, CAP x2" value={exchange} onChange={(e) => setExchange(e.target.value)} /></label>
          <button type="button" disabled={exchangeLines.length === 0}
            onClick={() => void act("exchanged", () => client.admin.settleReturn(item.id, { method: "exchange", exchange_lines: exchangeLines }))}>
            Exchange</button>
        </div>
      )}
    </section>
  );
}
