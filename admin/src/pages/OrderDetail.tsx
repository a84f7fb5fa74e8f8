import { useState, type FormEvent } from "react";
import type { CommerceClient, Order } from "@commerce/client";
import { resendConfirmation } from "../admin";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

const CARRIERS = ["dhl", "ups", "fedex", "usps", "dpd", "other"];

type SentEmail = { type: string; subject: string; to: string; sent_at: string };

/** What happened to the order, from its own fields (placed, paid, shipments, refunds, credits, cancelled) and the
 * emails sent about it. */
function timeline(order: Order, emails: SentEmail[]): { at: string; what: string }[] {
  const events = [{ at: order.created_at, what: "Placed" }];
  if (order.paid_at) events.push({ at: order.paid_at, what: `Paid ${money(order.amount_paid, order.currency)}` });
  for (const s of order.shipments) events.push({ at: s.created_at, what: `Shipped with ${s.carrier} (${s.tracking_number})` });
  for (const r of order.refunds) events.push({ at: r.created_at, what: `Refund ${money(r.amount, order.currency)} ${r.status}` });
  // A return settled as store credit or an exchange: no money moved, but it is no longer refundable.
  for (const c of order.credits) events.push({ at: c.created_at, what: `${c.reason ?? "Return settled"}: ${money(c.amount, order.currency)} taken from what can be refunded${c.status === "failed" ? " (void)" : ""}` });
  if (order.cancelled_at) events.push({ at: order.cancelled_at, what: `Cancelled${order.cancel_reason ? `: ${order.cancel_reason}` : ""}` });
  for (const e of emails) events.push({ at: e.sent_at, what: `Email to ${e.to}: ${e.subject}` });
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

function shippedOf(order: Order): Map<string, number> {
  const shipped = new Map<string, number>();
  for (const s of order.shipments) for (const l of s.lines) shipped.set(l.sku, (shipped.get(l.sku) ?? 0) + l.quantity);
  return shipped;
}

export function OrderDetail({ client, orderId }: { client: CommerceClient; orderId: string }) {
  const can = useCan();
  const loaded = useLoad(() => client.admin.getOrder(orderId), [client, orderId]);
  const emails = useLoad(() => client.admin.orderEmails(orderId), [client, orderId, loaded.data]);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  async function act(what: string, action: () => Promise<unknown>) {
    setMessage("");
    setError("");
    try {
      await action();
      setMessage(what);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  if (loaded.error) return <><h1>Order</h1><p role="alert" className="error">{loaded.error}</p></>;
  const order = loaded.data;
  if (!order) return <p>Loading…</p>;
  const refundable = order.amount_paid - order.amount_refunded;
  const shipped = shippedOf(order);
  const toShip = order.lines.map((l) => ({ sku: l.sku, title: l.title, left: l.quantity - (shipped.get(l.sku) ?? 0) }))
    .filter((l) => l.left > 0);

  return (
    <>
      <p><a href="#/orders">← Orders</a></p>
      <h1>Order <span className="mono">{order.id}</span></h1>
      <div aria-live="polite">
        {message && <p className="ok" role="status">{message}</p>}
        {error && <p className="error" role="alert">{error}</p>}
      </div>
      <div className="grid">
        <section className="card" aria-labelledby="summary-title">
          <h2 id="summary-title">Summary</h2>
          <dl className="pairs">
            <dt>Status</dt><dd><span className={`badge ${order.status}`}>{order.status}</span></dd>
            <dt>Payment</dt><dd data-testid="payment-status">{order.payment_status}</dd>
            <dt>Fulfilment</dt><dd data-testid="fulfilment-status">{order.fulfilment_status}</dd>
            {order.return_status && <><dt>Return</dt><dd><a href="#/returns">{order.return_status}</a></dd></>}
            <dt>Email</dt><dd>{order.email}</dd>
            <dt>Ship to</dt><dd>{order.shipping_address.name}, {order.shipping_address.city} {order.shipping_address.country}</dd>
            <dt>Total</dt><dd>{money(order.total, order.currency)}</dd>
            <dt>Refunded</dt><dd data-testid="refunded">{money(order.amount_refunded, order.currency)}</dd>
          </dl>
          {can("messages:read") && <p><a href={`#/messages/${order.id}`}>Customer messages</a></p>}
          {order.paid_at && can("orders:email") && (
            <button type="button" onClick={() => act(`Confirmation email queued to ${order.email}.`,
              () => resendConfirmation(client, order.id))}>Resend confirmation email</button>
          )}
        </section>
        <section className="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <ol className="timeline">
            {timeline(order, emails.data?.data ?? []).map((e, i) => <li key={i}><time dateTime={e.at}>{when(e.at)}</time> {e.what}</li>)}
          </ol>
        </section>
      </div>
      <section className="card" aria-labelledby="lines-title">
        <h2 id="lines-title">Lines</h2>
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">SKU</th><th scope="col">Item</th><th scope="col">Qty</th><th scope="col">Shipped</th><th scope="col">Total</th></tr></thead>
            <tbody>
              {order.lines.map((l) => (
                <tr key={l.sku}><td>{l.sku}</td><td>{l.title}</td><td>{l.quantity}</td><td>{shipped.get(l.sku) ?? 0}</td>
                  <td className="num">{money(l.line_total, order.currency)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <div className="grid">
        {can("orders:ship") && order.status === "paid" && toShip.length > 0 && (
          <ShipForm key={order.shipments.length} lines={toShip} onShip={(body) => act("Shipment recorded; the customer is emailed.",
            () => client.admin.createShipment(order.id, body))} />
        )}
        {can("orders:refund") && refundable > 0 && (
          <RefundForm currency={order.currency} refundable={refundable} onRefund={(amount, reason) =>
            act("Refund requested.", () => client.admin.refundOrder(order.id, reason ? { amount, reason } : { amount }))} />
        )}
        {can("orders:cancel") && order.status !== "cancelled" && order.fulfilment_status !== "shipped" && order.fulfilment_status !== "partially_shipped" && (
          <CancelForm onCancel={(reason) => act("Order cancelled.", () => client.admin.cancelOrder(order.id, reason ? { reason } : {}))} />
        )}
      </div>
    </>
  );
}

type ShipBody = { carrier: string; tracking_number: string; lines?: { sku: string; quantity: number }[] };

function ShipForm({ lines, onShip }: { lines: { sku: string; title: string; left: number }[]; onShip: (body: ShipBody) => Promise<void> }) {
  const [carrier, setCarrier] = useState("dhl");
  const [tracking, setTracking] = useState("");
  const [quantities, setQuantities] = useState<Record<string, number>>(() => Object.fromEntries(lines.map((l) => [l.sku, l.left])));
  const [invalid, setInvalid] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    const chosen = lines.map((l) => ({ sku: l.sku, quantity: quantities[l.sku] ?? 0 })).filter((l) => l.quantity > 0);
    if (chosen.length === 0) {
      setInvalid("Put at least one item in the shipment.");
      return;
    }
    setInvalid("");
    const everything = chosen.length === lines.length && chosen.every((c, i) => c.quantity === lines[i]!.left);
    void onShip(everything ? { carrier, tracking_number: tracking } : { carrier, tracking_number: tracking, lines: chosen });
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="ship-form-title">
      <h2 id="ship-form-title">Ship</h2>
      <label htmlFor="carrier">Carrier</label>
      <select id="carrier" value={carrier} onChange={(e) => setCarrier(e.target.value)}>
        {CARRIERS.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      <label htmlFor="tracking">Tracking number</label>
      <input id="tracking" required value={tracking} onChange={(e) => setTracking(e.target.value)} />
      <fieldset>
        <legend>Quantities in this shipment</legend>
        {lines.map((l) => (
          <label key={l.sku} className="inline">{l.sku} ({l.left} left)
            <input type="number" min={0} max={l.left} value={quantities[l.sku] ?? 0}
                   onChange={(e) => setQuantities((q) => ({ ...q, [l.sku]: Number(e.target.value) }))} />
          </label>
        ))}
      </fieldset>
      {invalid && <p className="error" role="alert">{invalid}</p>}
      <button type="submit">Record shipment</button>
    </form>
  );
}

function RefundForm({ currency, refundable, onRefund }: { currency: string; refundable: number; onRefund: (amount: number, reason: string) => Promise<void> }) {
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [invalid, setInvalid] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    const minor = toMinor(amount, currency);
    if (!(minor > 0) || minor > refundable) {
      setInvalid(`Enter an amount above 0 and at most ${money(refundable, currency)}.`);
      return;
    }
    setInvalid("");
    void onRefund(minor, reason.trim());
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="refund-form-title" noValidate>
      <h2 id="refund-form-title">Refund</h2>
      <p>Up to {money(refundable, currency)} is left to refund.</p>
      <label htmlFor="refund-amount">Amount ({currency})</label>
      <input id="refund-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)}
             aria-describedby={invalid ? "refund-invalid" : undefined} aria-invalid={invalid ? true : undefined} />
      {invalid && <p id="refund-invalid" className="error">{invalid}</p>}
      <label htmlFor="refund-reason">Reason (optional)</label>
      <input id="refund-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit">Refund</button>
    </form>
  );
}

function CancelForm({ onCancel }: { onCancel: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState("");
  return (
    <form className="card" onSubmit={(e) => { e.preventDefault(); if (window.confirm("Cancel this order?")) void onCancel(reason.trim()); }}
          aria-labelledby="cancel-form-title">
      <h2 id="cancel-form-title">Cancel</h2>
      <label htmlFor="cancel-reason">Reason (optional)</label>
      <input id="cancel-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" className="danger">Cancel order</button>
    </form>
  );
}
